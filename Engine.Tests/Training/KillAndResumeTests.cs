using System.Diagnostics;
using Engine.Tests.Errors;

namespace Engine.Tests.Training;

/// <summary>
/// Exact resume after SIGKILL (issue 11 item 4): the run of <see cref="ResumeChild"/> is killed at
/// several points, including in the middle of a checkpoint write, started again, and must print
/// exactly the uninterrupted run's losses (float bits) for every batch, whether the batch ran
/// before the kill, again after it (batches after the last checkpoint run twice), or only after.
/// The reference is the same child run without a kill, in its own folder.
/// </summary>
[TestFixture]
public class KillAndResumeTests
{
    sealed record Run(List<string> Lines, bool Killed);

    static Run Start(string dir, Func<List<string>, bool>? killWhen = null, bool slowWrites = false, int timeoutSeconds = 120)
    {
        var info = ChildProcess.StartInfo(ResumeChild.Case);
        info.Environment["ENGINE_RESUME_DIR"] = dir;
        if (slowWrites) info.Environment["ENGINE_RESUME_SLOW_WRITE"] = "1";
        using var process = Process.Start(info)!;
        var lines = new List<string>();
        var stderr = process.StandardError.ReadToEndAsync();
        bool killed = false;
        var watch = Stopwatch.StartNew();
        string? line;
        while ((line = process.StandardOutput.ReadLine()) is not null)
        {
            lines.Add(line);
            if (!killed && killWhen?.Invoke(lines) == true)
            {
                process.Kill(); // SIGKILL on Unix: no finally blocks, no flushes
                killed = true;
                break;
            }
            if (watch.Elapsed.TotalSeconds > timeoutSeconds) { process.Kill(); Assert.Fail($"the child ran past {timeoutSeconds} s:\n{string.Join("\n", lines)}"); }
        }
        process.WaitForExit();
        if (!killed)
            Assert.That(process.ExitCode, Is.EqualTo(0), $"child failed:\n{string.Join("\n", lines)}\n{stderr.Result}");
        return new Run(lines, killed);
    }

    static Dictionary<string, string> Losses(IEnumerable<string> lines, Dictionary<string, string>? reference = null)
    {
        var losses = new Dictionary<string, string>();
        foreach (var l in lines.Where(l => l.StartsWith("loss ", StringComparison.Ordinal)))
        {
            var parts = l.Split(' ');
            var key = parts[1] + "/" + parts[2];
            if (reference is not null)
                Assert.That(parts[3], Is.EqualTo(reference[key]), $"epoch/batch {key}: the loss bits differ from the uninterrupted run");
            losses[key] = parts[3];
        }
        return losses;
    }

    static string NewDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "engine-resume-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Test]
    public void A_run_killed_anywhere_resumes_with_the_uninterrupted_losses_bit_for_bit()
    {
        if (ChildProcess.Unavailable() is { } why) Assert.Ignore(why);
        var refDir = NewDir();
        Dictionary<string, string> reference;
        try
        {
            var full = Start(refDir);
            reference = Losses(full.Lines);
            Assert.That(reference, Has.Count.EqualTo(27), "3 epochs of 9 batches");
            Assert.That(full.Lines.Last(), Is.EqualTo("done"));
        }
        finally { Directory.Delete(refDir, true); }

        // Kill after the n-th loss line (accumulation over 2 batches: the first optimizer step and
        // checkpoint come with batch 2; 4: mid-epoch 0; 12: mid-epoch 1, inside an accumulation
        // group; 18: epoch 1's last batch), and in the middle of the 7th checkpoint's write.
        var kills = new (string Name, Func<List<string>, bool> When, bool Slow, bool Resumes)[]
        {
            ("after loss 1, before any optimizer step (no checkpoint yet: starts over)", l => l.Count(x => x.StartsWith("loss ")) == 1, false, false),
            ("after loss 4", l => l.Count(x => x.StartsWith("loss ")) == 4, false, true),
            ("after loss 12", l => l.Count(x => x.StartsWith("loss ")) == 12, false, true),
            ("after loss 18", l => l.Count(x => x.StartsWith("loss ")) == 18, false, true),
            ("mid-write of checkpoint 7", l => l.Last() == "writing 7", true, true),
        };
        foreach (var (name, when, slow, resumes) in kills)
        {
            var dir = NewDir();
            try
            {
                var first = Start(dir, when, slow);
                Assert.That(first.Killed, $"{name}: the kill point was reached");
                var second = Start(dir, slowWrites: slow);
                Assert.That(second.Lines.Last(), Is.EqualTo(resumes ? "done (resumed)" : "done"), $"{name}: whether the second run found a checkpoint");
                var seen = Losses(first.Lines, reference);
                foreach (var (k, v) in Losses(second.Lines, reference)) seen[k] = v;
                Assert.That(seen.Keys, Is.EquivalentTo(reference.Keys), $"{name}: together the two runs trained every batch");
                TestContext.Out.WriteLine($"{name}: first run {first.Lines.Count(x => x.StartsWith("loss "))} batches, resumed run {second.Lines.Count(x => x.StartsWith("loss "))}");
            }
            finally { Directory.Delete(dir, true); }
        }
    }
}
