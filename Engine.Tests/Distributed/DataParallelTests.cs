using Engine.Distributed;

namespace Engine.Tests.Distributed;

/// <summary>
/// <see cref="DataParallel"/> and <see cref="DataParallelStep"/> across real MPI ranks: 2 ranks on
/// half-batches reproduce single-process full-batch training with TorchSharp's built-in SGD and
/// Adam (the reference runs in the same child process; bounds and their reasons are in
/// <see cref="DataParallelCases"/>). Bad input is checked here in the test process, before any
/// process group is needed.
/// </summary>
[TestFixture, NonParallelizable]
public class DataParallelTests
{
    [Test]
    public void Two_ranks_on_half_batches_match_full_batch_training_with_torchsharp_sgd_and_adam()
    {
        var job = MpiJob.Run("dist-ddp-training", 2);
        Assert.That(job.ExitCode, Is.EqualTo(0), job.Output);
        for (int r = 0; r < 2; r++)
        {
            var lines = job.Lines(r);
            foreach (var check in DataParallelCases.TrainingChecks)
                Assert.That(lines.Any(l => l.StartsWith($"rank {r}: {check}: ok", StringComparison.Ordinal)), $"rank {r}: {check}\n{job.Output}");
        }
        TestContext.Out.WriteLine(string.Join("\n", job.Lines(0)));
    }

    [Test]
    public void A_group_of_one_leaves_gradients_unchanged_and_lays_buckets_out_in_reverse_order()
    {
        var job = MpiJob.Run("dist-ddp-single", 1);
        Assert.That(job.ExitCode, Is.EqualTo(0), job.Output);
        var lines = job.Lines(0);
        foreach (var check in DataParallelCases.SingleChecks)
            Assert.That(lines.Any(l => l.StartsWith($"rank 0: {check}: ok", StringComparison.Ordinal)), $"{check}\n{job.Output}");
    }

    [Test]
    public void The_bucket_path_allocates_no_tensor_per_step()
    {
        var job = MpiJob.Run("dist-ddp-steady", 2);
        Assert.That(job.ExitCode, Is.EqualTo(0), job.Output);
        for (int r = 0; r < 2; r++)
        {
            Assert.That(job.Lines(r).Any(l => l.StartsWith($"rank {r}: steady-live: ok", StringComparison.Ordinal)), job.Output);
            Assert.That(job.Lines(r).Any(l => l.StartsWith($"rank {r}: steady-created: ok", StringComparison.Ordinal)), job.Output);
        }
        TestContext.Out.WriteLine(string.Join("\n", job.Lines(0).Concat(job.Lines(1))));
    }

    [Test]
    public void Replicas_with_different_bucket_layouts_fail_on_the_first_step_even_with_checks_off()
    {
        var job = MpiJob.Run("dist-ddp-mismatch", 2);
        Assert.That(job.ExitCode, Is.EqualTo(0), job.Output);
        foreach (int r in new[] { 0, 1 })
        {
            var line = job.Lines(r).Single();
            Assert.That(line, Does.StartWith($"rank {r}: check-restored=True: "), line);
            Assert.That(line, Does.Contain("disagree").And.Contain("float32 [67]").And.Contain("float32 [803]"), line);
        }
    }

    [Test]
    public void A_model_without_parameters_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new DataParallel(nn.Sequential(nn.ReLU())));
        Assert.That(e!.Message, Does.Contain("has no parameters"));
        var frozen = nn.Linear(2, 2);
        foreach (var p in frozen.parameters()) p.requires_grad = false;
        Assert.That(() => new DataParallel(frozen), Throws.ArgumentException.With.Message.Contains("requires grad"));
    }

    [TestCase(0L)]
    [TestCase(-1L)]
    public void A_bucket_size_that_is_not_positive_is_refused(long bytes)
    {
        Assert.That(() => new DataParallel(nn.Linear(2, 2), bucketBytes: bytes),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("bucketBytes must be positive"));
    }

    [Test]
    public void Without_a_process_group_the_constructor_says_to_call_init()
    {
        Assume.That(ProcessGroup.Current, Is.Null, "this test process never initializes MPI");
        Assert.That(() => new DataParallel(nn.Linear(2, 2)),
            Throws.InvalidOperationException.With.Message.Contains("ProcessGroup.Init()"));
    }
}
