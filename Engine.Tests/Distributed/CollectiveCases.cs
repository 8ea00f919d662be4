using System.Diagnostics;
using Engine.Distributed;

namespace Engine.Tests.Distributed;

/// <summary>Child cases for the process group's collectives. Expected values are closed forms of
/// the ranks' inputs (rank r holds base + 10·r), computed here in float64 without MPI.</summary>
static class CollectiveCases
{
    public static readonly string[] Checks =
        ["sum", "average", "max", "min", "product", "int64-sum", "bool-any", "async", "broadcast", "broadcast-float16",
         "all-gather", "reduce-scatter", "reduce-scatter-average", "barrier", "broadcast-bytes", "non-contiguous", "int-average", "float16-sum", "checked-count", "null-reference"];

    public static int Collectives(ProcessGroup g)
    {
        int n = g.WorldSize, r = g.Rank;
        var say = (string check, bool ok, string detail) => DistributedCases.Say($"rank {r}: {check}: {(ok ? "ok" : "FAIL " + detail)}");
        Tensor Mine(ScalarType t = ScalarType.Float32) => (arange(6, ScalarType.Float64) + 10 * r).to(t);
        var baseline = arange(6, ScalarType.Float64);
        bool Near(Tensor a, Tensor expected) => a.to(ScalarType.Float64).allclose(expected, rtol: 1e-6, atol: 0); // float32 rounding of sums of ≤ 4 small integers: exact in fact

        foreach (var (check, op, expected) in new (string, ReduceOp, Tensor)[]
        {
            ("sum", ReduceOp.Sum, baseline * n + 10.0 * n * (n - 1) / 2),
            ("average", ReduceOp.Average, (baseline * n + 10.0 * n * (n - 1) / 2) / n),
            ("max", ReduceOp.Max, baseline + 10.0 * (n - 1)),
            ("min", ReduceOp.Min, baseline.clone()),
            ("product", ReduceOp.Product, Enumerable.Range(0, n).Aggregate(ones(6, ScalarType.Float64), (acc, k) => acc * (baseline + 10.0 * k))),
        })
        {
            var t = Mine();
            g.AllReduce(t, op);
            say(check, Near(t, expected), $"{t.to(ScalarType.Float64).str()} vs {expected.str()}");
        }

        var i64 = Mine(ScalarType.Int64);
        g.AllReduce(i64);
        say("int64-sum", i64.to(ScalarType.Float64).eq(baseline * n + 10.0 * n * (n - 1) / 2).all().item<bool>(), i64.str());

        var flag = tensor(new[] { r == n - 1 }); // only the last rank says yes
        g.AllReduce(flag, ReduceOp.Max);
        say("bool-any", flag.item<bool>(), flag.str());

        var a = Mine();
        var work = g.AllReduceAsync(a, ReduceOp.Average);
        work.Wait();
        say("async", Near(a, (baseline * n + 10.0 * n * (n - 1) / 2) / n) && work.IsCompleted, a.str());

        int root = n - 1;
        var b = Mine();
        g.Broadcast(b, root);
        say("broadcast", Near(b, baseline + 10.0 * root), b.str());

        var h = Mine(ScalarType.Float16);
        g.Broadcast(h, 0); // float16 travels as bytes
        say("broadcast-float16", h.dtype == ScalarType.Float16 && Near(h, baseline), h.str());

        var gathered = g.AllGather(Mine().view(2, 3));
        var expectedRows = stack(Enumerable.Range(0, n).Select(k => (baseline + 10.0 * k).view(2, 3)).ToArray());
        say("all-gather", gathered.shape.SequenceEqual(new long[] { n, 2, 3 }) && Near(gathered, expectedRows), gathered.str());

        var input = (arange(6 * n, ScalarType.Float64) + 10 * r).to(ScalarType.Float32).view(2 * n, 3);
        var total = arange(6 * n, ScalarType.Float64).view(2 * n, 3) * n + 10.0 * n * (n - 1) / 2;
        var block = g.ReduceScatter(input);
        say("reduce-scatter", block.shape.SequenceEqual(new long[] { 2, 3 }) && Near(block, total[TensorIndex.Slice(2 * r, 2 * r + 2)]), block.str());
        var blockAvg = g.ReduceScatter(input, ReduceOp.Average);
        say("reduce-scatter-average", Near(blockAvg, total[TensorIndex.Slice(2 * r, 2 * r + 2)] / n), blockAvg.str());

        g.Barrier();
        say("barrier", true, "");

        var bytes = g.BroadcastBytes(r == 0 ? [1, 2, 3, 250] : null);
        say("broadcast-bytes", bytes.SequenceEqual(new byte[] { 1, 2, 3, 250 }), string.Join(",", bytes));

        // Bad input is an ArgumentException on every rank before any message (so no rank waits on another).
        say("non-contiguous", Throws(() => g.AllReduce(ones(3, 4).t()), "not contiguous"), "");
        say("int-average", Throws(() => g.AllReduce(ones(3, ScalarType.Int64), ReduceOp.Average), "Average needs a floating-point"), "");
        say("float16-sum", Throws(() => g.AllReduce(ones(3, ScalarType.Float16)), "cannot Sum Float16"), "");

        // The group still works after refused calls: they sent nothing.
        var c = ones(1);
        g.AllReduce(c);
        say("checked-count", c.item<float>() == n, c.str());

        // Open MPI installs signal handlers at init; .NET turns SIGSEGV from a null dereference
        // into a NullReferenceException. Both must still work after MPI_Init.
        bool caught = false;
        try { string? none = Environment.GetEnvironmentVariable("ENGINE_NO_SUCH_VARIABLE"); _ = none!.Length; }
        catch (NullReferenceException) { caught = true; }
        say("null-reference", caught, "");
        return 0;
    }

    static bool Throws(Action call, string fragment)
    {
        try { call(); return false; }
        catch (ArgumentException e) { return e.Message.Contains(fragment, StringComparison.Ordinal); }
    }

    /// <summary>Rank 0 reduces a [3, 4] tensor, the others a [4, 3] one: every rank must throw,
    /// naming both shapes, instead of MPI reducing 12 floats laid out differently.</summary>
    public static int Mismatch(ProcessGroup g)
    {
        var t = g.Rank == 0 ? ones(3, 4) : ones(4, 3);
        try
        {
            g.AllReduce(t);
            DistributedCases.Say($"rank {g.Rank}: no error");
            return 3;
        }
        catch (DistributedException e)
        {
            DistributedCases.Say($"rank {g.Rank}: {e.GetType().Name}: {e.Message}");
            return 0;
        }
    }

    /// <summary>The last rank stops answering (sleeps far past the timeout, as a hung rank would);
    /// the others must throw a DistributedTimeoutException naming it within the timeout.</summary>
    public static int Stuck(ProcessGroup g)
    {
        g.Barrier(); // everyone is up
        if (g.Rank == g.WorldSize - 1)
        {
            Thread.Sleep(TimeSpan.FromSeconds(60));
            return 0;
        }
        var clock = Stopwatch.StartNew();
        try
        {
            g.AllReduce(ones(4));
            DistributedCases.Say($"rank {g.Rank}: no error");
            return 3;
        }
        catch (DistributedTimeoutException e)
        {
            DistributedCases.Say($"rank {g.Rank}: after {clock.Elapsed.TotalSeconds:0.0} s: {e.Message}");
            return 4; // a non-zero exit makes mpirun end the job, the stuck rank included
        }
    }
}
