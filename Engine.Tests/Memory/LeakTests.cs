using System.Diagnostics;
using Engine.Optim;

namespace Engine.Tests.Memory;

/// <summary>
/// Native memory the GC cannot see must not leak: a long training loop of a TorchSharp MLP
/// (nn.Sequential) with Engine's Adam, one <c>torch.NewDisposeScope()</c> per step, keeps the
/// process's resident memory and the live tensor count (TorchSharp's
/// <c>DisposeScopeManager.Statistics.ThreadTotalLiveCount</c>) flat after a warm-up, on the fused
/// path (what Auto picks on CPU) and on the flat-buffer path (what it picks on CUDA).
/// </summary>
[TestFixture]
public class LeakTests
{
    /// <summary>The process's resident set size (VmRSS in /proc/self/status), in bytes.</summary>
    static long ResidentBytes()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc/self/status");
    }

    static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    static long LiveTensors => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    sealed record Run(double Seconds, long RssWarm, long RssEnd, long GcWarm, long GcEnd,
        long LiveBefore, long LiveWarm, long LiveEnd, double FirstLoss, double LastLoss, string Samples)
    {
        public double Growth => (RssEnd - RssWarm) / (double)RssWarm;
    }

    /// <summary>Trains a 32-64-10 ReLU MLP on a fixed synthetic set labelled by a random linear
    /// teacher, batch 16, Adam lr 1e-3, <paramref name="steps"/> steps; measures after
    /// <paramref name="warmUp"/> steps (by then the optimizer state, libtorch's allocator caches
    /// and the JIT have settled) and at the end.</summary>
    static Run Train(Implementation implementation, int steps, int warmUp)
    {
        // One intra-op thread: ops this small gain nothing from a second one, and libtorch's
        // workers spinning at every op's barrier would double the CPU the 20,000 steps cost.
        int threads = get_num_threads();
        Ops.SetNumThreads(1);
        try { return Train(implementation, steps, warmUp, threads); }
        finally { Ops.SetNumThreads(threads); }
    }

    static Run Train(Implementation implementation, int steps, int warmUp, int threadsBefore)
    {
        const int Batch = 16, In = 32, Hidden = 64, Classes = 10, Samples = 512;
        manual_seed(7);
        long liveBefore = LiveTensors;
        var X = randn(Samples, In);
        var Y = X.matmul(randn(In, Classes)).argmax(1);
        var model = nn.Sequential(nn.Linear(In, Hidden), nn.ReLU(), nn.Linear(Hidden, Classes));
        using var optimizer = new Engine.Optim.Adam(model.parameters(), lr: 1e-3) { Implementation = implementation };

        double Step(int step, bool readLoss)
        {
            using var scope = NewDisposeScope();
            long offset = (long)step * Batch % Samples;
            var x = X.narrow(0, offset, Batch);
            var y = Y.narrow(0, offset, Batch);
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.forward(x), y);
            loss.backward();
            optimizer.step();
            return readLoss ? loss.item<float>() : double.NaN;
        }

        var clock = Stopwatch.StartNew();
        var cpu0 = Environment.CpuUsage.TotalTime;
        double firstLoss = Step(0, true);
        for (int s = 1; s < warmUp; s++) Step(s, false);
        Collect();
        long rssWarm = ResidentBytes(), gcWarm = GC.GetGCMemoryInfo().TotalCommittedBytes, liveWarm = LiveTensors;
        var samples = new List<string> { $"{warmUp}: {rssWarm / 1048576.0:F1} MB" };
        double lastLoss = double.NaN;
        for (int s = warmUp; s < steps; s++)
        {
            bool last = s == steps - 1;
            double l = Step(s, last);
            if (last) lastLoss = l;
            // Collecting now and then keeps the GC from growing its own heap budget, which would
            // show in the RSS as growth that is not a leak (the managed heap grows by tens of MB
            // over such a run and then stops); native tensors are not the GC's to size.
            if ((s + 1) % 2000 == 0) Collect();
            if ((s + 1) % 4000 == 0) samples.Add($"{s + 1}: {ResidentBytes() / 1048576.0:F1} MB");
        }
        Collect();
        var run = new Run(clock.Elapsed.TotalSeconds, rssWarm, ResidentBytes(), gcWarm, GC.GetGCMemoryInfo().TotalCommittedBytes,
            liveBefore, liveWarm, LiveTensors, firstLoss, lastLoss, string.Join("; ", samples));
        TestContext.Progress.WriteLine(
            $"leak test ({implementation}, 1 thread, was {threadsBefore}): {steps} steps in {run.Seconds:F1} s ({steps / run.Seconds:F0} steps/s, {(Environment.CpuUsage.TotalTime - cpu0).TotalSeconds:F1} s CPU); " +
            $"RSS after {warmUp}-step warm-up {run.RssWarm / 1048576.0:F1} MB, at the end {run.RssEnd / 1048576.0:F1} MB " +
            $"({run.Growth * 100:+0.00;-0.00}%), managed heap committed {run.GcWarm / 1048576.0:F1} -> {run.GcEnd / 1048576.0:F1} MB; " +
            $"samples [{run.Samples}]; live tensors {run.LiveBefore} -> {run.LiveWarm} -> {run.LiveEnd}; loss {run.FirstLoss:F4} -> {run.LastLoss:F4}");
        foreach (var t in new[] { X, Y }) t.Dispose();
        model.Dispose();
        return run;
    }

    static void AssertFlat(Run run)
    {
        Assert.Multiple(() =>
        {
            Assert.That(run.Growth, Is.LessThan(0.05), "resident memory grew by 5% or more after the warm-up");
            // The committed managed heap is the whole test process's (earlier tests size it); what
            // this run must not do is grow it after its warm-up. 16 MB: a few GC segments of slack.
            Assert.That(run.GcEnd - run.GcWarm, Is.LessThan(16L << 20), "the managed heap does not grow after the warm-up");
            Assert.That(run.LiveEnd, Is.EqualTo(run.LiveWarm), "the live tensor count is constant: every step's tensors die with its scope");
            Assert.That(run.LastLoss, Is.LessThan(run.FirstLoss * 0.5), "and the model did learn");
        });
    }

    [Test]
    public void Twenty_thousand_Adam_steps_keep_resident_memory_and_live_tensors_flat()
    {
        Assume.That(File.Exists("/proc/self/status"), "needs /proc (Linux) to read the resident set size");
        AssertFlat(Train(Implementation.Auto, steps: 20_000, warmUp: 2_000));
    }

    [Test]
    public void Adam_steps_on_the_flat_buffer_path_keep_memory_flat()
    {
        Assume.That(File.Exists("/proc/self/status"), "needs /proc (Linux) to read the resident set size");
        AssertFlat(Train(Implementation.Flat, steps: 8_000, warmUp: 2_000));
    }
}
