using Engine.Distributed;
using Engine.Normalization;

namespace Engine.Tests.Distributed;

/// <summary>
/// Child case for <see cref="SyncBatchNorm"/> (2 ranks): each rank holds a slice of a seeded full
/// batch that every rank generates alike, and compares what its SyncBatchNorm gives with a
/// single-process BatchNorm run on the FULL batch in the same process (TorchSharp's built-in
/// nn.BatchNorm1d/2d; Engine's BatchNorm2d, itself parity-tested against it, where the cumulative
/// average momentum = null is exercised).
/// <para>The loss is a sum over the full batch, L = Σ (y ⊙ w) with a fixed random w, which each rank
/// computes on its own rows: L = Σ_r L_r. Hence
/// <list type="bullet">
/// <item>this rank's input gradient = rows of ∂L/∂x (the synchronized backward sums the ranks' parts);</item>
/// <item>γ, β gradients are local, ∂L_r/∂γ, and ∂L/∂γ = Σ_r ∂L_r/∂γ = WorldSize · Average_r(∂L_r/∂γ):
/// the data-parallel average (ProcessGroup.AllReduce Average, as DDP would) times WorldSize is the
/// full-batch gradient;</item>
/// <item>running_mean/var after 3 steps equal the single-process ones on every rank.</item>
/// </list>
/// The last check trains a converted model under <see cref="DataParallel"/> against its unconverted
/// twin on the full batches.</para>
/// </summary>
static class SyncBatchNormCases
{
    const int C = 3;

    public static int Run(ProcessGroup g)
    {
        if (g.WorldSize != 2) throw new ArgumentException($"dist-syncbn needs 2 ranks, got {g.WorldSize}");
        int r = g.Rank;
        var say = new Reporter(r);

        // Even halves, float64 and float32; uneven 3 + 5 with the cumulative average; an empty rank.
        Train(g, say, "even-float64", ScalarType.Float64, [4, 4], 0.1, image: true, eval: true);
        Train(g, say, "even-float32", ScalarType.Float32, [4, 4], 0.1, image: true, eval: false);
        Train(g, say, "offset-1000-float32", ScalarType.Float32, [4, 4], 0.1, image: true, eval: false, offset: 1000);
        Train(g, say, "uneven-float64", ScalarType.Float64, [3, 5], null, image: true, eval: false);
        Train(g, say, "empty-rank-float64", ScalarType.Float64, [0, 8], 0.1, image: true, eval: false);
        Train(g, say, "bn1d-float64", ScalarType.Float64, [4, 4], 0.1, image: false, eval: false);
        Train(g, say, "one-each-float64", ScalarType.Float64, [1, 1], 0.1, image: false, eval: false);
        WholeBatchOfOne(g, say);
        BadInput(g, say);
        Convert(g, say);
        WithDataParallel(g, say);
        return 0;
    }

    /// <summary>Prints "rank r: check: ok (max |Δ| = …)" or "… FAIL …" per comparison.</summary>
    sealed class Reporter(int rank)
    {
        public void Line(string check, bool ok, string detail) =>
            DistributedCases.Say($"rank {rank}: {check}: {(ok ? "ok" : "FAIL")} {detail}");

        public void Near(string check, Tensor actual, Tensor expected, double tolerance)
        {
            if (!actual.shape.SequenceEqual(expected.shape)) { Line(check, false, $"shape {string.Join("x", actual.shape)} vs {string.Join("x", expected.shape)}"); return; }
            var diff = actual.numel() == 0 ? 0 : actual.to(ScalarType.Float64).sub(expected.to(ScalarType.Float64)).abs().max().item<double>();
            Line(check, diff <= tolerance, $"(max |Δ| = {diff:0.0e+0}, bound {tolerance:0.0e+0})");
        }
    }

    static (long Start, long Length) Rows(int[] split, int rank) => (split.Take(rank).Sum(), split[rank]);

    static Tensor Slice(Tensor t, (long Start, long Length) rows) => t[TensorIndex.Slice(rows.Start, rows.Start + rows.Length)];

    /// <summary>A batch every rank generates identically: values around 3 with spread 2 per channel, so
    /// the one-pass variance has some cancellation to survive.</summary>
    static Tensor Batch(long n, bool image, long seed, ScalarType dtype, double offset = 3)
    {
        var gen = new Generator((ulong)seed);
        long[] shape = image ? [n, C, 4, 4] : [n, C];
        return randn(shape, ScalarType.Float64, generator: gen).mul(2).add(offset).to(dtype);
    }

    static nn.Module<Tensor, Tensor> Reference(bool image, double? momentum, ScalarType dtype) => (image, momentum) switch
    {
        (true, { } m) => nn.BatchNorm2d(C, momentum: m, dtype: dtype),
        (false, { } m) => nn.BatchNorm1d(C, momentum: m, dtype: dtype),
        (true, null) => new BatchNorm2d(C, momentum: null, dtype: dtype),
        (false, null) => new BatchNorm1d(C, momentum: null, dtype: dtype),
    };

    static (Parameter Weight, Parameter Bias, Tensor Mean, Tensor Var) State(nn.Module<Tensor, Tensor> bn) => bn switch
    {
        TorchSharp.Modules.BatchNorm t => (t.weight, t.bias, t.running_mean, t.running_var),
        BatchNorm e => (e.weight!, e.bias!, e.running_mean!, e.running_var!),
        _ => throw new ArgumentException(bn.GetType().Name),
    };

    /// <summary>
    /// Tolerances. float64: both sides compute the same quantities in float64 in different orders
    /// (one-pass sums here, libtorch's two-pass or Welford there); with |μ|/σ ≈ 1.5 the one-pass
    /// variance loses under one digit, so values of order 10 agree to ~1e-14: bound 1e-11.
    /// float32: the reference accumulates its statistics in float64 (libtorch's CPU batch_norm) and
    /// SyncBatchNorm sums in float64 too; the rest is float32 elementwise arithmetic on values of
    /// order 10 (x − μ, ·invstd, ·γ, the gradient's few terms), a few ulps of 1.2e-7 · 10: bound 1e-5.
    /// The γ and β gradients are sums over a channel's n·H·W values, each term carrying that error,
    /// in another order on each side, so their bound is the elementwise one times n.
    /// Inputs around a large channel mean (offset 1000) are rounded to float32 before any arithmetic,
    /// by up to ulp(offset)/2 ≈ offset·2⁻²⁴, and x − μ passes that on (times γ·invstd ≤ 1 here): the
    /// float32 bound adds 3·offset·2⁻²³. A float32 one-pass variance (S2/m − μ² in float32) would be
    /// off by ~offset²·2⁻²³ ≈ 0.1 on σ² ≈ 4 there, and the outputs by ~1e-2: far outside.
    /// Measured here: float64 ≤ 5e-14; float32 ≤ 4e-6 (offset 3), ≤ 3e-5 (offset 1000).
    /// </summary>
    static double Tolerance(ScalarType dtype, double offset = 3) =>
        dtype == ScalarType.Float64 ? 1e-11 : 1e-5 + 3 * offset * Math.Pow(2, -23);

    static void Train(ProcessGroup g, Reporter say, string name, ScalarType dtype, int[] split, double? momentum, bool image, bool eval, double offset = 3)
    {
        int r = g.Rank, world = g.WorldSize;
        long n = split.Sum();
        var rows = Rows(split, r);
        var tol = Tolerance(dtype, offset);
        try
        {
            var reference = Reference(image, momentum, dtype);
            var sync = new SyncBatchNorm(C, momentum: momentum, process_group: g, dtype: dtype);
            var (refW, refB, refMean, refVar) = State(reference);
            using (no_grad())
            {
                var gen = new Generator(99);
                var gamma = rand([C], ScalarType.Float64, generator: gen).add(0.5).to(dtype);
                var beta = randn([C], ScalarType.Float64, generator: gen).to(dtype);
                refW.copy_(gamma); sync.weight!.copy_(gamma);
                refB.copy_(beta); sync.bias!.copy_(beta);
            }
            for (var step = 0; step < 3; step++)
            {
                using var scope = NewDisposeScope();
                var full = Batch(n, image, 1000 + step, dtype, offset);
                var w = Batch(n, image, 2000 + step, dtype).sub(3);       // the fixed loss weights, mean 0

                reference.zero_grad();
                var xFull = full.clone().requires_grad_();
                var yFull = reference.forward(xFull);
                yFull.mul(w).sum().backward();

                sync.zero_grad();
                var x = Slice(full, rows).clone().requires_grad_();
                var y = sync.forward(x);
                y.mul(Slice(w, rows)).sum().backward();

                say.Near($"{name}: forward step {step}", y.detach(), Slice(yFull.detach(), rows), tol);
                say.Near($"{name}: input grad step {step}", x.grad ?? zeros_like(x), Slice(xFull.grad!, rows), tol);
                foreach (var (what, local, expected) in new[] { ("weight", sync.weight!, refW), ("bias", sync.bias!, refB) })
                {
                    var averaged = (local.grad ?? zeros_like(local)).clone();
                    g.AllReduce(averaged, ReduceOp.Average);
                    say.Near($"{name}: {what} grad (average x {world}) step {step}", averaged.mul(world), expected.grad!, tol * n);
                }
            }
            say.Near($"{name}: running_mean", sync.running_mean!, refMean, tol);
            say.Near($"{name}: running_var", sync.running_var!, refVar, tol);
            say.Line($"{name}: num_batches_tracked", sync.num_batches_tracked!.item<long>() == 3, $"({sync.num_batches_tracked!.item<long>()})");

            if (eval)
            {
                // Eval uses the running statistics and must not communicate: only rank 0 runs it,
                // then both ranks meet at a Barrier. Had eval called AllReduce, it would meet rank 1's
                // Barrier instead, and the group's call check would throw on both ranks.
                reference.eval();
                sync.eval();
                var batch = Batch(n, image, 3000, dtype);
                if (r == 0)
                {
                    using var _ = no_grad();
                    say.Near($"{name}: eval forward on rank 0 alone", sync.forward(Slice(batch, rows)), Slice(reference.forward(batch), rows), tol);
                }
                g.Barrier();
                say.Line($"{name}: eval without communication", true, "");
            }
        }
        catch (Exception e)
        {
            say.Line($"{name}: run", false, $"{e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// One value per channel over the whole batch (rank 0: one sample of (N, C), rank 1: none): the
    /// unbiased variance is undefined, so both ranks throw PyTorch's "Expected more than 1 value per
    /// channel when training", after the collective (no rank is left waiting: the group still works).
    /// </summary>
    static void WholeBatchOfOne(ProcessGroup g, Reporter say)
    {
        var sync = new SyncBatchNorm(C, process_group: g, dtype: ScalarType.Float64);
        var x = Batch(g.Rank == 0 ? 1 : 0, image: false, 5, ScalarType.Float64);
        try
        {
            sync.forward(x);
            say.Line("whole batch of one: throws", false, "no error");
        }
        catch (ArgumentException e)
        {
            say.Line("whole batch of one: throws", e.Message.Contains("expected more than 1 value per channel when training"), e.Message);
        }
        var one = ones(1);
        g.AllReduce(one);
        say.Line("whole batch of one: group still in step", one.item<float>() == g.WorldSize, one.ToString());
    }

    /// <summary>Wrong channel count, rank or dtype: an ArgumentException on every rank before any collective.</summary>
    static void BadInput(ProcessGroup g, Reporter say)
    {
        var sync = new SyncBatchNorm(C, process_group: g);
        foreach (var (check, input, fragment) in new[]
        {
            ("bad channels", randn(4, C + 1, 2, 2), "channels at dim 1, expected num_features = 3"),
            ("bad rank", randn(C), "expected a (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W) input"),
            ("bad dtype", ones([4, C], ScalarType.Int64), "expected a floating-point input"),
        })
        {
            try
            {
                sync.forward(input);
                say.Line(check, false, "no error");
            }
            catch (ArgumentException e)
            {
                say.Line(check, e.Message.Contains(fragment) && e.Message.StartsWith("SyncBatchNorm:"), e.Message);
            }
        }
        var one = ones(1);
        g.AllReduce(one);
        say.Line("bad input: nothing was sent", one.item<float>() == g.WorldSize, one.ToString());
    }

    /// <summary>
    /// Convert on Conv2d → Engine BatchNorm2d → ReLU: the converted model keeps the same Parameter
    /// objects, and on its half of the batch gives the rows of the unconverted twin on the full batch;
    /// the conv weight's averaged gradient times WorldSize is the twin's full-batch gradient.
    /// </summary>
    static void Convert(ProcessGroup g, Reporter say)
    {
        const double tol = 1e-11; // float64, as Tolerance explains
        int[] split = [5, 3];
        var rows = Rows(split, g.Rank);
        nn.Module<Tensor, Tensor> Model()
        {
            manual_seed(7);
            return nn.Sequential(("conv", nn.Conv2d(2, C, 3, padding: 1, dtype: ScalarType.Float64)),
                ("bn", new BatchNorm2d(C, dtype: ScalarType.Float64)), ("relu", nn.ReLU()));
        }
        var model = Model();
        var twin = Model();
        var bn = (BatchNorm)model.named_children().Single(c => c.name == "bn").module;
        var (weight, mean) = (bn.weight, bn.running_mean);
        var converted = SyncBatchNorm.Convert(model, g);
        var sync = converted.named_children().Single(c => c.name == "bn").module as SyncBatchNorm;
        say.Line("convert: same model, BatchNorm replaced", ReferenceEquals(converted, model) && sync is not null && sync.process_group == g, converted.named_children().Select(c => c.module.GetType().Name).Aggregate((a, b) => a + "," + b));
        say.Line("convert: same parameter and buffer objects", ReferenceEquals(sync?.weight, weight) && ReferenceEquals(sync?.running_mean, mean), "");

        var full = randn([split.Sum(), 2, 4, 4], ScalarType.Float64, generator: new Generator(11));
        var w = randn([split.Sum(), C, 4, 4], ScalarType.Float64, generator: new Generator(12));
        var yTwin = twin.forward(full);
        yTwin.mul(w).sum().backward();
        var y = model.forward(Slice(full, rows));
        y.mul(Slice(w, rows)).sum().backward();
        say.Near("convert: forward", y.detach(), Slice(yTwin.detach(), rows), tol);
        var convGrad = model.parameters().First().grad!.clone();
        g.AllReduce(convGrad, ReduceOp.Average);
        say.Near("convert: conv weight grad (average x 2)", convGrad.mul(g.WorldSize), twin.parameters().First().grad!, tol * 100);
        say.Near("convert: running_var", sync!.running_var!, ((BatchNorm)twin.named_children().Single(c => c.name == "bn").module).running_var!, tol);
    }

    /// <summary>
    /// Training end to end: Conv2d → BatchNorm2d → ReLU → Linear converted to SyncBatchNorm and
    /// wrapped in <see cref="DataParallel"/>, each rank on its half of every batch with the mean MSE
    /// over its half, 3 SGD steps; against the unconverted twin trained in one process on the full
    /// batches with the mean over all of them. With equal halves DataParallel's average of the ranks'
    /// gradients is the full-batch mean loss's gradient (the conv's through SyncBatchNorm's summed
    /// backward, γ and β's locally, see the class summary), so parameters and running statistics
    /// must agree. float64: 3 steps of float64 arithmetic in different orders, bound 1e-11.
    /// </summary>
    static void WithDataParallel(ProcessGroup g, Reporter say)
    {
        const double tol = 1e-11;
        var rows = Rows([4, 4], g.Rank);
        nn.Module<Tensor, Tensor> Model()
        {
            manual_seed(31);
            return nn.Sequential(("conv", nn.Conv2d(2, C, 3, padding: 1, dtype: ScalarType.Float64)),
                ("bn", new BatchNorm2d(C, dtype: ScalarType.Float64)), ("relu", nn.ReLU()),
                ("flat", nn.Flatten()), ("fc", nn.Linear(C * 16, 2, dtype: ScalarType.Float64)));
        }
        var model = (nn.Module<Tensor, Tensor>)SyncBatchNorm.Convert(Model(), g);
        var twin = Model();
        using var parallel = new DataParallel(model, g);
        var sgd = optim.SGD(model.parameters(), 0.1);
        var sgdTwin = optim.SGD(twin.parameters(), 0.1);
        var initial = model.parameters().First().detach().clone();
        for (var step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            var x = randn([8, 2, 4, 4], ScalarType.Float64, generator: new Generator((ulong)(40 + step)));
            var target = randn([8, 2], ScalarType.Float64, generator: new Generator((ulong)(50 + step)));
            sgdTwin.zero_grad();
            nn.functional.mse_loss(twin.forward(x), target).backward();
            sgdTwin.step();
            sgd.zero_grad();
            nn.functional.mse_loss(model.forward(Slice(x, rows)), Slice(target, rows)).backward();
            parallel.SynchronizeGradients();
            sgd.step();
        }
        var moved = model.parameters().First().sub(initial).abs().max().item<double>();
        say.Line("data parallel: the conv weight moved", moved > 1e-3, $"(max |Δ| = {moved:0.0e+0})");   // not a vacuous comparison
        var twinParameters = twin.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        foreach (var (name, p) in model.named_parameters())
            say.Near($"data parallel: {name} after 3 steps", p, twinParameters[name], tol);
        var twinBuffers = twin.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        foreach (var (name, b) in model.named_buffers())
            say.Near($"data parallel: {name} after 3 steps", b, twinBuffers[name], tol);
    }
}
