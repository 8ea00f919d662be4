using System.Text.RegularExpressions;

namespace Engine.Tests.Distributed;

/// <summary>The process group's collectives across real MPI ranks (mpirun on loopback).</summary>
[TestFixture, NonParallelizable]
public class CollectiveTests
{
    [TestCase(2)]
    [TestCase(3)]
    public void Every_collective_gives_the_closed_form_result_on_every_rank(int ranks)
    {
        var job = MpiJob.Run("dist-collectives", ranks);
        Assert.That(job.ExitCode, Is.EqualTo(0), job.Output);
        for (int r = 0; r < ranks; r++)
        {
            var lines = job.Lines(r).ToList();
            foreach (var check in CollectiveCases.Checks)
                Assert.That(lines, Does.Contain($"rank {r}: {check}: ok"), job.Output);
        }
    }

    [Test]
    public void Ranks_passing_different_shapes_all_throw_naming_both_calls()
    {
        var job = MpiJob.Run("dist-mismatch", 2);
        Assert.That(job.ExitCode, Is.EqualTo(0), job.Output);
        foreach (int r in new[] { 0, 1 })
        {
            var line = job.Lines(r).Single();
            Assert.That(line, Does.Contain("DistributedException"));
            Assert.That(line, Does.Contain("AllReduce(Sum) float32 [3, 4]").And.Contain("AllReduce(Sum) float32 [4, 3]"), line);
            Assert.That(line, Does.Contain("rank 0").And.Contain("rank 1"));
        }
    }

    [Test]
    public void A_rank_that_stops_answering_makes_the_others_time_out_naming_it()
    {
        // Timeout 3 s; the stuck rank sleeps 60 s. Bound: the error within 3 s + polling slack,
        // and the whole job (mpirun start, .NET start of 2 ranks, teardown) well under the sleep.
        var job = MpiJob.Run("dist-stuck", 2, env: new Dictionary<string, string> { ["ENGINE_DIST_TIMEOUT"] = "3" });
        var line = job.Lines(0).Single();
        Assert.That(line, Does.Contain("rank 1 did not join the call").Or.Contain("did not complete within 3 s"), job.Output);
        var seconds = double.Parse(Regex.Match(line, @"after ([0-9.]+) s").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.That(seconds, Is.InRange(2.9, 6.0), line);
        Assert.That(job.ExitCode, Is.Not.EqualTo(0));
        Assert.That(job.Elapsed.TotalSeconds, Is.LessThan(45), "the job must end when rank 0 fails, not wait for the stuck rank");
    }
}
