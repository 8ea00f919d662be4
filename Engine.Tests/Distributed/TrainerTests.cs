using System.Globalization;
using System.Text.RegularExpressions;

namespace Engine.Tests.Distributed;

/// <summary>Data-parallel training through the Trainer on 2 MPI ranks.</summary>
[TestFixture, NonParallelizable]
public class TrainerTests
{
    [Test]
    public void Two_ranks_on_half_batches_train_like_one_process_on_full_batches()
    {
        var job = MpiJob.Run("dist-trainer", 2);
        Assert.That(job.ExitCode, Is.EqualTo(0), job.Output);
        for (int r = 0; r < 2; r++)
        {
            var lines = job.Lines(r);
            foreach (var line in lines.Where(l => l.Contains(" epoch ")))
            {
                var m = Regex.Match(line, @"loss (\S+) reference (\S+) accuracy (\S+) reference (\S+)");
                double Num(int i) => double.Parse(m.Groups[i].Value, CultureInfo.InvariantCulture);
                // The Trainer's loss is the rank-summed Σ loss·n / Σ n of the half batches' float32
                // mean losses; the reference averages the full batches' float32 mean losses: each
                // differs by float32 rounding (~6e-8 relative per batch; measured up to 9e-8 over
                // 4 batches), so 1e-6 relative.
                Assert.That(Num(1), Is.EqualTo(Num(2)).Within(1e-4).Percent, line);
                Assert.That(Num(3), Is.EqualTo(Num(4)), line); // counts: exact
            }
            var diff = lines.Single(l => l.Contains("max relative parameter difference"));
            // Adam on float32, 12 steps: the averaged half-batch gradient differs from the full
            // batch's only in summation order (~1e-7 relative); Adam's normalized step passes that
            // through. Measured 1.1e-7 (max over tensors of max |Δ| / max |w|); bound 1e-5.
            Assert.That(double.Parse(diff.Split(' ').Last(), CultureInfo.InvariantCulture), Is.LessThan(1e-5), diff);
            Assert.That(lines, Does.Contain($"rank {r}: csv {(r == 0 ? "written" : "absent")}"), "CsvLogger writes on rank 0 only");
        }
    }

    [Test]
    public void A_stop_asked_on_one_rank_stops_every_rank_after_the_same_batch()
    {
        var job = MpiJob.Run("dist-stop", 2, env: new Dictionary<string, string> { ["ENGINE_DIST_TIMEOUT"] = "20" });
        Assert.That(job.ExitCode, Is.EqualTo(0), job.Output);
        // Rank 1 stops after its 2nd batch; the epoch still ends (Keras' stop_training), then Fit returns.
        Assert.That(job.Lines(0), Does.Contain("rank 0: batches 2 epochs 1 steps 2"), job.Output);
        Assert.That(job.Lines(1), Does.Contain("rank 1: batches 2 epochs 1 steps 2"), job.Output);
    }

    static Dictionary<string, string> Losses(MpiJob.Result job, int rank)
    {
        var losses = new Dictionary<string, string>();
        foreach (var p in job.Lines(rank).Where(l => l.StartsWith("loss ", StringComparison.Ordinal)).Select(l => l.Split(' ')))
            losses[p[1] + "/" + p[2]] = p[3]; // a batch run again after a resume keeps its last value
        return losses;
    }

    [Test]
    public void A_killed_rank_ends_the_job_and_a_restart_resumes_with_the_same_losses()
    {
        var reference = MpiJob.Run("dist-resume", 2, env: new Dictionary<string, string> { ["ENGINE_RESUME_DIR"] = NewDir() });
        Assert.That(reference.ExitCode, Is.EqualTo(0), reference.Output);

        var dir = NewDir();
        // Rank 1 SIGKILLs itself after step 5 (the last checkpoint is step 4): mpirun ends the job.
        var killed = MpiJob.Run("dist-resume", 2, env: new Dictionary<string, string> { ["ENGINE_RESUME_DIR"] = dir, ["ENGINE_TEST_KILL_STEP"] = "5" });
        Assert.That(killed.ExitCode, Is.Not.EqualTo(0), killed.Output);
        Assert.That(killed.Output, Does.Contain("signal 9").Or.Contain("Killed").Or.Contain("exited on signal"), killed.Output);
        Assert.That(killed.Lines(0).Any(l => l.Contains("done")), Is.False);
        Assert.That(File.Exists(Path.Combine(dir, "run.ckpt")), Is.True);

        var resumed = MpiJob.Run("dist-resume", 2, env: new Dictionary<string, string> { ["ENGINE_RESUME_DIR"] = dir });
        Assert.That(resumed.ExitCode, Is.EqualTo(0), resumed.Output);
        for (int r = 0; r < 2; r++)
        {
            Assert.That(resumed.Lines(r), Does.Contain($"rank {r}: done (resumed)"));
            var expected = Losses(reference, r);
            var got = Losses(resumed, r);
            Assert.That(got.Keys.First(), Is.Not.EqualTo("0/0"), "the restart must continue from the checkpoint, not from the start");
            foreach (var (key, bits) in got)
                Assert.That(bits, Is.EqualTo(expected[key]), $"rank {r}, epoch/batch {key}: the resumed loss differs from the uninterrupted run");
            Assert.That(got.Keys.Last(), Is.EqualTo(expected.Keys.Last()));
        }
    }

    static string NewDir() => Directory.CreateTempSubdirectory("engine-dist-resume-").FullName;
}
