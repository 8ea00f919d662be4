using System.Diagnostics;
using Engine.Distributed;
using Engine.Training;

namespace Engine.Tests.Distributed;

/// <summary>
/// Child cases for <see cref="DataParallel"/>. The reference for every training run is computed in
/// the same child process, on every rank, without MPI: an identical copy of the model (rank 0's
/// initialization) trained with TorchSharp's built-in optimizer on the FULL 16-row batches, while
/// rank r's replica trains on rows [8r, 8r+8) of each batch with a mean loss and averaged
/// gradients. The two are the same computation up to the order of the floating-point sums.
/// </summary>
static class DataParallelCases
{
    const int Steps = 5, Batch = 16, Features = 6, Classes = 3;

    public static readonly string[] TrainingChecks =
        ["broadcast-init", "mlp-sgd-f32", "sensitivity", "mlp-adam-f32", "cnn-sgd-f32", "mlp-adam-flat-f32", "mlp-sgd-f64", "mlp-adam-f64",
         "accumulation", "unused-parameter", "manual-average", "float16-average", "step-strategy", "mixed-precision-skip-together", "mixed-precision-after", "broadcast-state"];

    // ---------------------------------------------------------------- models and data

    static nn.Module<Tensor, Tensor> Mlp(long seed, ScalarType dtype = ScalarType.Float32)
    {
        manual_seed(seed);
        // Tanh, not ReLU: a kink could turn a rounding difference into a different branch.
        var m = nn.Sequential(nn.Linear(Features, 32), nn.Tanh(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, Classes));
        m.to(dtype);
        return m;
    }

    static nn.Module<Tensor, Tensor> Cnn(long seed)
    {
        manual_seed(seed);
        return nn.Sequential(
            nn.Unflatten(1, [1, 2, 3]), // the 6 features as a 1×2×3 image
            nn.Conv2d(1, 4, 2, padding: 1), nn.Tanh(),
            nn.Flatten(), nn.Linear(4 * 3 * 4, Classes));
    }

    /// <summary>Seeded data, identical on every rank: [Steps, 16, 6] inputs, [Steps, 16] labels.</summary>
    static (Tensor X, Tensor Y) Data(ScalarType dtype)
    {
        manual_seed(99);
        var x = randn(Steps, Batch, Features).to(dtype);
        var y = randint(0, Classes, [Steps, Batch]);
        return (x, y);
    }

    static Tensor Shard(Tensor batch, int rank, int world) => batch.narrow(0, rank * (Batch / world), Batch / world);

    static Tensor Loss(nn.Module<Tensor, Tensor> m, Tensor x, Tensor y) => nn.functional.cross_entropy(m.call(x), y); // call: MixedPrecision's hooks cast at the boundaries

    /// <summary>Full-batch training of the reference copy: the single-process run the ranks must reproduce.</summary>
    static void TrainReference(nn.Module<Tensor, Tensor> m, torch.optim.Optimizer opt, Tensor X, Tensor Y)
    {
        for (int s = 0; s < Steps; s++)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            Loss(m, X[s], Y[s]).backward();
            opt.step();
        }
    }

    /// <summary>Rank r's run: its shard of each batch, split into <paramref name="microBatches"/>
    /// accumulated micro-batches, through <see cref="DataParallelStep"/> as the Trainer drives it.</summary>
    static void TrainParallel(DataParallel dp, torch.optim.Optimizer opt, Tensor X, Tensor Y, int microBatches = 1)
    {
        var step = new DataParallelStep(dp);
        var m = (nn.Module<Tensor, Tensor>)dp.Module;
        int rank = dp.Group.Rank, world = dp.Group.WorldSize;
        for (int s = 0; s < Steps; s++)
        {
            using var scope = NewDisposeScope();
            step.ZeroGrad(opt);
            var x = Shard(X[s], rank, world);
            var y = Shard(Y[s], rank, world);
            long micro = x.shape[0] / microBatches;
            for (int k = 0; k < microBatches; k++)
                step.Backward(Loss(m, x.narrow(0, k * micro, micro), y.narrow(0, k * micro, micro)) / microBatches);
            step.UnscaleGradients(opt);
            step.Step(opt);
        }
    }

    /// <summary>max |θ − θ_ref| / max |θ_ref| over all parameters.</summary>
    static double RelativeDifference(nn.Module a, nn.Module reference)
    {
        double diff = 0, scale = 0;
        foreach (var (p, q) in a.parameters().Zip(reference.parameters()))
        {
            diff = Math.Max(diff, (p - q).abs().max().to(ScalarType.Float64).item<double>());
            scale = Math.Max(scale, q.abs().max().to(ScalarType.Float64).item<double>());
        }
        return diff / scale;
    }

    static bool Same(Tensor a, Tensor b) =>
        a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static bool SameBits(nn.Module a, nn.Module b) =>
        a.parameters().Zip(b.parameters()).All(t => Same(t.First, t.Second)) &&
        a.buffers().Zip(b.buffers()).All(t => Same(t.First, t.Second));

    /// <summary>Whether every rank's parameters are bit for bit rank 0's.</summary>
    static bool ReplicasIdentical(ProcessGroup g, nn.Module m) => ReplicasIdentical(g, m.parameters());

    static bool ReplicasIdentical(ProcessGroup g, IEnumerable<Tensor> tensors)
    {
        foreach (var p in tensors)
        {
            var all = g.AllGather(p.detach().contiguous());
            for (int r = 1; r < g.WorldSize; r++)
                if (!Same(all[r], all[0])) return false;
        }
        return true;
    }

    // ---------------------------------------------------------------- the 2-rank training case

    public static int Training(ProcessGroup g)
    {
        int rank = g.Rank;
        void Say(string check, bool ok, string detail) => DistributedCases.Say($"rank {rank}: {check}: {(ok ? "ok" : "FAIL")} {detail}");

        // Broadcast: each rank initializes its replica from its own seed; after the constructor
        // every replica must be bit for bit the model rank 0 made.
        {
            var replica = Mlp(1000 + rank);
            var rank0 = Mlp(1000);
            using var dp = new DataParallel(replica, g);
            Say("broadcast-init", SameBits(replica, rank0) && (rank == 0 || !SameBits(Mlp(1000 + rank), rank0)), "");
        }

        // Parity with full-batch training. The averaged half-batch gradient is the full-batch
        // gradient summed in another order ((Σ₀⁷/8 + Σ₈¹⁵/8)/2 against Σ₀¹⁵/16), so each element
        // differs by a few ulps, and 5 steps carry that into the weights. Measured with this case
        // (printed as rel = max |θ − θ_ref| / max |θ_ref|): ≤ 7.4e-8 in float32 for every run
        // (SGD with momentum, Adam, the CNN, accumulation) and ≤ 2.6e-16 in float64. Bounds:
        // 1e-6 and 1e-12, over 10× the measured value for another CPU's kernels summing in yet
        // another order, and far below what a wrong average does (a gradient halved or doubled
        // moves θ by ~1e-2 relative in 5 steps). The replicas themselves must agree bit for bit.
        var f32 = Data(ScalarType.Float32);
        var f64 = Data(ScalarType.Float64);
        Parity("mlp-sgd-f32", () => Mlp(1000 + rank), () => Mlp(1000), ps => torch.optim.SGD(ps, 0.1, momentum: 0.9), f32, 1e-6, DataParallel.DefaultBucketBytes);
        Parity("mlp-adam-f32", () => Mlp(1000 + rank), () => Mlp(1000), ps => torch.optim.Adam(ps, 0.01), f32, 1e-6, 512);
        Parity("cnn-sgd-f32", () => Cnn(1000 + rank), () => Cnn(1000), ps => torch.optim.SGD(ps, 0.1, momentum: 0.9), f32, 1e-6, 256);
        // Engine's Adam on the flat-buffer path: every p.grad is a view of the optimizer's flat
        // gradient, which the buckets copy in and out like any other gradient.
        Parity("mlp-adam-flat-f32", () => Mlp(1000 + rank), () => Mlp(1000),
            ps => new Engine.Optim.Adam(ps, 0.01) { Implementation = Engine.Optim.Implementation.Flat }, f32, 1e-6, 512,
            reference: ps => torch.optim.Adam(ps, 0.01));
        Parity("mlp-sgd-f64", () => Mlp(1000 + rank, ScalarType.Float64), () => Mlp(1000, ScalarType.Float64), ps => torch.optim.SGD(ps, 0.1, momentum: 0.9), f64, 1e-12, 1024);
        Parity("mlp-adam-f64", () => Mlp(1000 + rank, ScalarType.Float64), () => Mlp(1000, ScalarType.Float64), ps => torch.optim.Adam(ps, 0.01), f64, 1e-12, DataParallel.DefaultBucketBytes);
        // Accumulation: 2 micro-batches of 4 rows per rank, each loss divided by 2, is the same
        // mean over the 16 rows (same bound as above).
        Parity("accumulation", () => Mlp(1000 + rank), () => Mlp(1000), ps => torch.optim.SGD(ps, 0.1, momentum: 0.9), f32, 1e-6, 512, microBatches: 2);

        // The bound discriminates: the full-batch run with the gradient doubled (SGD's lr doubled,
        // what a Sum instead of an Average gives) lands far outside it.
        {
            var a = Mlp(1000);
            var b = Mlp(1000);
            TrainReference(a, torch.optim.SGD(a.parameters(), 0.1, momentum: 0.9), f32.X, f32.Y);
            TrainReference(b, torch.optim.SGD(b.parameters(), 0.2, momentum: 0.9), f32.X, f32.Y);
            double rel = RelativeDifference(b, a);
            Say("sensitivity", rel > 1e3 * 1e-6, $"rel={rel:E2}");
        }

        UnusedParameter(g, Say);
        ManualAverage(g, Say);
        Float16Average(g, Say);
        StepStrategy(g, Say);
        MixedPrecisionFirst(g, Say);
        DataParallelFirst(g, Say);
        BroadcastState(g, Say);
        return 0;

        void Parity(string check, Func<nn.Module<Tensor, Tensor>> replicaOf, Func<nn.Module<Tensor, Tensor>> referenceOf,
            Func<IEnumerable<Parameter>, torch.optim.Optimizer> optimizer, (Tensor X, Tensor Y) data, double bound, long bucketBytes,
            int microBatches = 1, Func<IEnumerable<Parameter>, torch.optim.Optimizer>? reference = null)
        {
            var replica = replicaOf();
            var refModel = referenceOf();
            using var dp = new DataParallel(replica, g, bucketBytes);
            TrainParallel(dp, optimizer(replica.parameters()), data.X, data.Y, microBatches);
            TrainReference(refModel, (reference ?? optimizer)(refModel.parameters()), data.X, data.Y);
            double rel = RelativeDifference(replica, refModel);
            bool identical = ReplicasIdentical(g, replica);
            Say(check, rel <= bound && identical, $"rel={rel:E2} bound={bound:E0} buckets={dp.BucketCount} replicas-identical={identical}");
        }
    }

    /// <summary>Two heads; rank 1 never uses the second, so its <c>.grad</c> stays null there. After
    /// the average both ranks hold (g₀ + 0) / 2 for it; the reference is the gradient of the
    /// mean of both ranks' losses, computed in this process on one model.</summary>
    sealed class TwoHeads : nn.Module<Tensor, Tensor>
    {
        public readonly nn.Module<Tensor, Tensor> Body = nn.Linear(Features, 8), HeadA = nn.Linear(8, Classes), HeadB = nn.Linear(8, Classes);
        public TwoHeads() : base("TwoHeads") => RegisterComponents();
        public override Tensor forward(Tensor x) => HeadA.forward(Body.forward(x).tanh());
        public Tensor Both(Tensor x) { var h = Body.forward(x).tanh(); return HeadA.forward(h) + HeadB.forward(h); }
    }

    static void UnusedParameter(ProcessGroup g, Action<string, bool, string> say)
    {
        var (X, Y) = Data(ScalarType.Float64);
        manual_seed(5);
        var replica = new TwoHeads(); replica.to(ScalarType.Float64);
        manual_seed(5);
        var reference = new TwoHeads(); reference.to(ScalarType.Float64);
        using var dp = new DataParallel(replica, g, 256);
        Tensor LossOf(TwoHeads m, int r) =>
            nn.functional.cross_entropy(r == 0 ? m.Both(Shard(X[0], 0, 2)) : m.forward(Shard(X[0], 1, 2)), Shard(Y[0], r, 2));
        LossOf(replica, g.Rank).backward();
        bool nullBefore = replica.HeadB.parameters().All(p => p.grad is null);
        dp.SynchronizeGradients();
        ((LossOf(reference, 0) + LossOf(reference, 1)) / 2).backward();
        double worst = 0;
        foreach (var (p, q) in replica.parameters().Zip(reference.parameters()))
            worst = Math.Max(worst, p.grad is null ? double.PositiveInfinity : (p.grad - q.grad!).abs().max().item<double>());
        // float64: the same sums in another order; 1e-12 is ~10⁴ ulps of these O(1) gradients.
        say("unused-parameter", worst <= 1e-12 && (g.Rank == 0 ? !nullBefore : nullBefore), $"max|Δg|={worst:E2} null-before={nullBefore}");
    }

    /// <summary>Gradients set to rank-dependent values, several small buckets: the average must
    /// land exactly on each parameter (float32 (a + b) / 2 is one rounded sum and an exact halving,
    /// which the reference computes the same way), so a slice mapped to the wrong parameter shows.</summary>
    static void ManualAverage(ProcessGroup g, Action<string, bool, string> say)
    {
        var model = Mlp(7);
        using var dp = new DataParallel(model, g, 100);
        var ps = model.parameters().ToList();
        Tensor GradOf(int r, int i) { manual_seed(100 * r + i); return randn(ps[i].shape); }
        for (int i = 0; i < ps.Count; i++) ps[i].grad = GradOf(g.Rank, i);
        dp.SynchronizeGradients();
        bool ok = true;
        for (int i = 0; i < ps.Count; i++)
        {
            var sum = GradOf(0, i);
            for (int r = 1; r < g.WorldSize; r++) sum += GradOf(r, i);
            ok &= Same(ps[i].grad!, sum / g.WorldSize);
        }
        say("manual-average", ok && dp.BucketCount > 2, $"buckets={dp.BucketCount}");
    }

    /// <summary>float16 gradients reduce through a float32 bucket (CPU MPI cannot sum float16);
    /// rank r holds r + 1, so the average is exactly (1 + … + N) / N, and stays float16.</summary>
    static void Float16Average(ProcessGroup g, Action<string, bool, string> say)
    {
        manual_seed(3);
        var model = nn.Linear(4, 3);
        model.to(ScalarType.Float16);
        using var dp = new DataParallel(model, g);
        foreach (var p in model.parameters()) p.grad = full(p.shape, g.Rank + 1, ScalarType.Float16);
        dp.SynchronizeGradients();
        double expected = (g.WorldSize + 1) / 2.0;
        bool ok = model.parameters().All(p => p.grad!.dtype == ScalarType.Float16 && p.grad.to(ScalarType.Float64).eq(expected).all().item<bool>());
        say("float16-average", ok, "");
    }

    /// <summary>The inner strategy's UnscaleGradients must already see the averaged gradient (a
    /// loss scaler's overflow check then agrees on every rank); state goes to and from the inner one.</summary>
    sealed class Recording : IStatefulStepStrategy
    {
        public double SeenAtUnscale = double.NaN;
        public Parameter? Watched;
        public IReadOnlyDictionary<string, Tensor>? Loaded;
        public void ZeroGrad(torch.optim.Optimizer optimizer) => optimizer.zero_grad();
        public void Backward(Tensor loss) => loss.backward();
        public void UnscaleGradients(torch.optim.Optimizer optimizer) => SeenAtUnscale = Watched!.grad!.item<float>();
        public bool Step(torch.optim.Optimizer optimizer) { optimizer.step(); return true; }
        public Dictionary<string, Tensor> state_dict() => new() { ["scale"] = tensor(1024f) };
        public void load_state_dict(IReadOnlyDictionary<string, Tensor> state) => Loaded = state;
    }

    static void StepStrategy(ProcessGroup g, Action<string, bool, string> say)
    {
        manual_seed(11);
        var model = nn.Linear(1, 1, hasBias: false);
        using var dp = new DataParallel(model, g);
        var inner = new Recording { Watched = model.parameters().Single() };
        var step = new DataParallelStep(dp, inner);
        var opt = torch.optim.SGD(model.parameters(), 0.1);
        step.ZeroGrad(opt);
        // loss = (r + 1)·w, so rank r's gradient is r + 1 and the average (N + 1) / 2.
        step.Backward((model.forward(ones(1, 1)) * (g.Rank + 1)).sum());
        step.UnscaleGradients(opt);
        var state = step.state_dict();
        step.load_state_dict(state);
        bool plain = new DataParallelStep(dp).state_dict().Count == 0;
        bool ok = inner.SeenAtUnscale == (g.WorldSize + 1) / 2.0 && state.ContainsKey("scale") && ReferenceEquals(inner.Loaded, state) && plain;
        say("step-strategy", ok, $"seen={inner.SeenAtUnscale}");
    }

    /// <summary>bf16 mixed precision with a loss scaler, MixedPrecision built first from each rank's
    /// own init (so each rank's fp32 masters differ until DataParallelStep broadcasts them). At
    /// the second step only rank 1's loss is infinite: averaged before the scaler's check, the
    /// gradients are non-finite on every rank, so every rank skips that step and backs off the
    /// scale together; models and masters stay bit for bit rank 0's.</summary>
    static void MixedPrecisionFirst(ProcessGroup g, Action<string, bool, string> say)
    {
        var model = Mlp(300 + g.Rank);
        var mp = Engine.Precision.MixedPrecision.Bf16(model, new Engine.Precision.LossScaler(init_scale: 1024));
        using var dp = new DataParallel(model, g, 512);
        var step = new DataParallelStep(dp, new Engine.Precision.MixedPrecisionStep(mp));
        var opt = torch.optim.Adam(mp.MasterParameters, 0.01);
        var (X, Y) = Data(ScalarType.Float32);
        var stepped = new List<bool>();
        for (int s = 0; s < 3; s++)
        {
            using var scope = NewDisposeScope();
            step.ZeroGrad(opt);
            var loss = Loss(model, Shard(X[s], g.Rank, g.WorldSize), Shard(Y[s], g.Rank, g.WorldSize));
            if (s == 1 && g.Rank == 1) loss = loss * float.PositiveInfinity;
            step.Backward(loss);
            step.UnscaleGradients(opt);
            stepped.Add(step.Step(opt));
        }
        bool skipped = stepped.SequenceEqual([true, false, true]);
        double scale = mp.Scaler!.GetScale();
        bool identical = ReplicasIdentical(g, model) && ReplicasIdentical(g, mp.MasterParameters);
        say("mixed-precision-skip-together", skipped && scale == 512 && identical,
            $"stepped=[{string.Join(",", stepped)}] scale={scale} replicas-identical={identical}");
    }

    /// <summary>The other order: DataParallel on the float32 model, then MixedPrecision's cast
    /// replaces the Parameter objects; the first SynchronizeGradients re-buckets the bf16 ones
    /// (float32 buckets on the CPU, so the layout is the float32 model's).</summary>
    static void DataParallelFirst(ProcessGroup g, Action<string, bool, string> say)
    {
        var model = Mlp(400 + g.Rank);
        using var dp = new DataParallel(model, g, 512);
        var sizes = dp.BucketSizes.ToArray();
        var mp = Engine.Precision.MixedPrecision.Bf16(model);
        var step = new DataParallelStep(dp, new Engine.Precision.MixedPrecisionStep(mp));
        var opt = torch.optim.SGD(mp.MasterParameters, 0.1, momentum: 0.9);
        var (X, Y) = Data(ScalarType.Float32);
        for (int s = 0; s < 3; s++)
        {
            using var scope = NewDisposeScope();
            step.ZeroGrad(opt);
            step.Backward(Loss(model, Shard(X[s], g.Rank, g.WorldSize), Shard(Y[s], g.Rank, g.WorldSize)));
            step.UnscaleGradients(opt);
            step.Step(opt);
        }
        bool bf16 = model.parameters().All(p => p.dtype == ScalarType.BFloat16);
        bool identical = ReplicasIdentical(g, model) && ReplicasIdentical(g, mp.MasterParameters);
        bool moved = !model.parameters().First().grad!.eq(0).all().item<bool>();
        say("mixed-precision-after", bf16 && identical && moved && dp.BucketSizes.SequenceEqual(sizes),
            $"bf16={bf16} replicas-identical={identical} sizes=[{string.Join(",", dp.BucketSizes)}]");
    }

    /// <summary>BroadcastState(1): parameters and buffers (BatchNorm's running statistics and
    /// step count) all become rank 1's.</summary>
    static void BroadcastState(ProcessGroup g, Action<string, bool, string> say)
    {
        nn.Module<Tensor, Tensor> Make(int r)
        {
            manual_seed(20 + r);
            var m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4));
            m.train();
            using var noGrad = no_grad();
            m.forward(randn(5, 3)); // rank-dependent running statistics and num_batches_tracked
            if (r == 1) m.forward(randn(5, 3));
            return m;
        }
        var mine = Make(g.Rank);
        using var dp = new DataParallel(mine, g);
        bool init = SameBits(mine, Make(0));
        if (g.Rank == 1) // as if only rank 1 had loaded a checkpoint
            using (no_grad())
                foreach (var (t, source) in mine.parameters().Cast<Tensor>().Concat(mine.buffers()).Zip(Make(1).parameters().Cast<Tensor>().Concat(Make(1).buffers())))
                    t.copy_(source);
        dp.BroadcastState(1);
        bool fromOne = SameBits(mine, Make(1));
        say("broadcast-state", init && fromOne && mine.buffers().Count() == 3, $"init-from-0={init} from-1={fromOne}");
    }

    /// <summary>The user turned call checks off, and rank 1's replica was built with another bucket
    /// size: the first SynchronizeGradients checks anyway, so every rank throws naming both bucket
    /// shapes (instead of MPI summing buffers of different layouts), and the user's setting is
    /// restored afterwards. The group is unusable after that, so this is a case of its own.</summary>
    public static int Mismatch(ProcessGroup g)
    {
        g.CheckCollectives = false;
        var model = Mlp(1);
        using var dp = new DataParallel(model, g, g.Rank == 0 ? 400 : DataParallel.DefaultBucketBytes);
        var (X, Y) = Data(ScalarType.Float32);
        Loss(model, X[0], Y[0]).backward();
        try
        {
            dp.SynchronizeGradients();
            DistributedCases.Say($"rank {g.Rank}: no error");
            return 3;
        }
        catch (DistributedException e)
        {
            DistributedCases.Say($"rank {g.Rank}: check-restored={!g.CheckCollectives}: {e.Message}");
            return 0;
        }
    }

    // ---------------------------------------------------------------- one rank

    public static readonly string[] SingleChecks = ["single-unchanged", "layout-reverse-order", "layout-default-one-bucket", "layout-float16", "sparse-gradient", "gradient-shape", "bad-root"];

    /// <summary>A group of one (mpirun -np 1): averaging over one rank leaves every gradient as it
    /// was, bit for bit, and gives a parameter without one zeros; the bucket layout is PyTorch's.</summary>
    public static int Single(ProcessGroup g)
    {
        void Say(string check, bool ok, string detail) => DistributedCases.Say($"rank {g.Rank}: {check}: {(ok ? "ok" : "FAIL")} {detail}");
        var (X, Y) = Data(ScalarType.Float32);

        var model = Mlp(1);
        using (var dp = new DataParallel(model, g, 100))
        {
            Loss(model, X[0], Y[0]).backward();
            var ps = model.parameters().ToList();
            var before = ps.Select(p => p.grad!.clone()).ToList();
            ps[0].grad = null;
            dp.SynchronizeGradients();
            bool same = ps.Skip(1).Zip(before.Skip(1)).All(t => Same(t.First.grad!, t.Second));
            bool zeros = ps[0].grad is { } z && z.eq(0).all().item<bool>();
            Say("single-unchanged", same && zeros && g.WorldSize == 1, $"world={g.WorldSize}");
        }

        // Mlp: w1 [32,6]=192, b1 32, w2 [16,32]=512, b2 16, w3 [3,16]=48, b3 3 elements. Reverse
        // order with a 400-byte (100 float32) cap: [b3 w3 b2] = 67; w2 (512) is larger than a
        // bucket: its own; [b1] = 32 (w1 would overflow it); w1 (192) its own.
        using (var dp = new DataParallel(Mlp(1), g, 400))
        {
            var sizes = dp.BucketSizes.ToArray();
            long[] expected = [3 + 48 + 16, 512, 32, 192];
            bool capped = sizes.All(s => s * 4 <= 400 || s is 512 or 192);
            Say("layout-reverse-order", sizes.SequenceEqual(expected) && sizes.Sum() == 192 + 32 + 512 + 16 + 48 + 3 && capped && dp.BucketCount == 4,
                $"sizes=[{string.Join(",", sizes)}]");
        }

        using (var dp = new DataParallel(Mlp(1), g))
            Say("layout-default-one-bucket", dp.BucketCount == 1 && dp.BucketSizes[0] == 803, "");

        // float16 parameters reduce in float32 buckets: a 100-byte cap holds 25 elements, so
        // b (4) and w (40) split, where float16's 2 bytes (88 bytes together) would not.
        var half = nn.Linear(10, 4);
        half.to(ScalarType.Float16);
        using (var dp = new DataParallel(half, g, 100))
            Say("layout-float16", dp.BucketSizes.SequenceEqual(new long[] { 4, 40 }), $"sizes=[{string.Join(",", dp.BucketSizes)}]");

        // Gradients a bucket cannot take are refused on the first call, before any collective.
        var embedding = nn.Embedding(10, 3, sparse: true);
        using (var dp = new DataParallel(embedding, g))
        {
            embedding.forward(tensor(new long[] { 1, 2 })).sum().backward();
            Say("sparse-gradient", Throws<NotSupportedException>(dp.SynchronizeGradients, "sparse gradient"), "");
        }
        var wrongShape = nn.Linear(2, 3);
        using (var dp = new DataParallel(wrongShape, g))
        {
            wrongShape.weight!.grad = ones(1); // TorchSharp's grad setter does not check the shape
            Say("gradient-shape", Throws<InvalidOperationException>(dp.SynchronizeGradients, "has a gradient of shape [1]"), "");
        }

        using (var dp = new DataParallel(Mlp(1), g))
            Say("bad-root", Throws<ArgumentOutOfRangeException>(() => dp.BroadcastState(1), "root must lie in [0, 1)"), "");
        return 0;
    }

    static bool Throws<T>(Action call, string fragment) where T : Exception
    {
        try { call(); return false; }
        catch (T e) { return e.Message.Contains(fragment, StringComparison.Ordinal); }
    }

    // ---------------------------------------------------------------- steady state: memory and cost

    /// <summary>2 ranks, a 6-256-256-128-3 MLP (~101k parameters) on 8 rows per rank: after a
    /// warm-up, 30 steps with a dispose scope each must leave the live tensor count where it was
    /// (the buckets allocate nothing per step). Also prints the bucket path's time per step with
    /// checked collectives (the group's default) and without, each step timed after a barrier.</summary>
    public static int Steady(ProcessGroup g)
    {
        set_num_threads(1); // 2 ranks on a 2-core machine: a second intra-op thread per rank only contends
        manual_seed(1);
        var model = nn.Sequential(nn.Linear(Features, 256), nn.Tanh(), nn.Linear(256, 256), nn.Tanh(), nn.Linear(256, 128), nn.Tanh(), nn.Linear(128, Classes));
        long count = model.parameters().Sum(p => p.numel());
        using var dp = new DataParallel(model, g);
        var opt = torch.optim.SGD(model.parameters(), 0.01, momentum: 0.9);
        var (X, Y) = Data(ScalarType.Float32);
        var times = new List<double>();
        void Step(DataParallel dp, int s)
        {
            using var scope = NewDisposeScope();
            opt.zero_grad();
            Loss(model, Shard(X[s % Steps], g.Rank, g.WorldSize), Shard(Y[s % Steps], g.Rank, g.WorldSize)).backward();
            g.Barrier(); // time the averaging, not the wait for a slower rank's backward
            long t0 = Stopwatch.GetTimestamp();
            dp.SynchronizeGradients();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            opt.step();
        }
        const int N = 30;
        // Median and mean over N steps: the machine is shared, so single steps can stall.
        string Measure(Action<int> step, bool check)
        {
            g.CheckCollectives = check;
            times.Clear();
            for (int s = 0; s < N; s++) step(s);
            g.CheckCollectives = true;
            var sorted = times.Order().ToArray();
            return $"median {sorted[N / 2]:0.000} ms, mean {sorted.Average():0.000} ms ({(check ? "checked" : "unchecked")})";
        }
        for (int s = 0; s < 5; s++) Step(dp, s);
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        string checkedCost = Measure(s => Step(dp, s), true);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        string uncheckedCost = Measure(s => Step(dp, s), false);
        DistributedCases.Say($"rank {g.Rank}: steady-live: {(after == live ? "ok" : "FAIL")} live {live} -> {after}");

        // What one call creates: only the managed handles of the existing gradients (read once to
        // copy in, once to copy out, and disposed at once), no tensor of its own.
        var stats = DisposeScopeManager.Statistics;
        long Created() => stats.CreatedInScopeCount + stats.CreatedOutsideScopeCount;
        long trainable = model.parameters().Count(), before = Created();
        dp.SynchronizeGradients();
        long created = Created() - before;
        DistributedCases.Say($"rank {g.Rank}: steady-created: {(created == 2 * trainable ? "ok" : "FAIL")} {created} tensor handles for {trainable} parameters");
        DistributedCases.Say($"rank {g.Rank}: cost: {count} parameters, {dp.BucketCount} bucket(s): SynchronizeGradients {checkedCost}; {uncheckedCost}");

        using (var small = new DataParallel(model, g, 32L << 10))
        {
            Step(small, 0);
            DistributedCases.Say($"rank {g.Rank}: cost: 32 KiB buckets, {small.BucketCount} bucket(s): SynchronizeGradients {Measure(s => Step(small, s), true)}; {Measure(s => Step(small, s), false)}");
        }

        // The bare all-reduce of one flat tensor of the same size, for comparison.
        using var flat = randn(count);
        void Bare(int s)
        {
            g.Barrier();
            long t0 = Stopwatch.GetTimestamp();
            g.AllReduce(flat, ReduceOp.Average);
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        DistributedCases.Say($"rank {g.Rank}: cost: bare AllReduce of {count} float32: {Measure(Bare, true)}; {Measure(Bare, false)}");
        return 0;
    }
}
