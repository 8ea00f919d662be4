using Engine.Precision;
using Sequential = TorchSharp.Modules.Sequential;

namespace Engine.Tests.Precision;

/// <summary>
/// MixedPrecision on CPU: bf16 training against the same model in fp32 (same initial weights,
/// same batches), dtypes of masters and normalization layers, the skip on overflow (fp16 works on
/// this CPU build of libtorch 2.10: Linear, Conv2d, pooling, cross-entropy forward and backward),
/// the scale sequence through real steps against the float64 reference, state round trip, memory.
/// </summary>
public class MixedPrecisionTests
{
    int _threads;

    // One intra-op thread: these models are tiny, and on a loaded 2-core machine a second thread
    // waiting at every op's barrier made 300 steps take minutes instead of seconds.
    [SetUp] public void OneThread() { _threads = get_num_threads(); Ops.SetNumThreads(1); }
    [TearDown] public void RestoreThreads() => Ops.SetNumThreads(_threads);

    const int Samples = 512, In = 16, Classes = 4;

    /// <summary>A fixed problem: Gaussian inputs labelled by a random linear teacher.</summary>
    static (Tensor X, Tensor Y) Teacher(int seed)
    {
        manual_seed(seed);
        var x = randn(Samples, In);
        var y = x.matmul(randn(In, Classes)).argmax(1);
        return (x, y);
    }

    static Sequential Mlp() => nn.Sequential(("fc1", nn.Linear(In, 64)), ("ln", nn.LayerNorm(64)), ("relu", nn.ReLU()),
        ("fc2", nn.Linear(64, 64)), ("bn", new Engine.Normalization.BatchNorm1d(64)), ("relu2", nn.ReLU()), ("fc3", nn.Linear(64, Classes)));

    static Sequential Cnn() => nn.Sequential(("conv1", nn.Conv2d(1, 8, 3, padding: 1)), ("bn1", nn.BatchNorm2d(8)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(8, 8, 3, padding: 1)), ("bn2", new Engine.Normalization.BatchNorm2d(8)), ("relu2", nn.ReLU()),
        ("pool", nn.MaxPool2d(2)), ("flat", nn.Flatten()), ("fc", nn.Linear(8 * 2 * 2, Classes)));

    static Sequential Copy(Sequential source, Func<Sequential> make)
    {
        var copy = make();
        copy.load_state_dict(source.state_dict());
        return copy;
    }

    /// <summary>Adam on the fp32 model and on a bf16 copy, same batches; returns the full-set loss of each at the end.</summary>
    static (double Fp32, double Bf16, double Start) TrainBoth(Func<Sequential> make, Func<Tensor, Tensor> shape, int steps)
    {
        var (x, y) = Teacher(5);
        x = shape(x);
        manual_seed(11);
        var fp32 = make();
        var low = Copy(fp32, make);
        double start;
        using (no_grad()) start = nn.functional.cross_entropy(fp32.call(x), y).item<float>();
        using var mp = MixedPrecision.Bf16(low);
        using var opt32 = optim.Adam(fp32.parameters(), 3e-3);
        using var optLow = optim.Adam(mp.MasterParameters, 3e-3);
        for (int s = 0; s < steps; s++)
        {
            using var scope = NewDisposeScope();
            var xb = x.narrow(0, s * 64 % Samples, 64);
            var yb = y.narrow(0, s * 64 % Samples, 64);
            opt32.zero_grad();
            nn.functional.cross_entropy(fp32.call(xb), yb).backward();
            opt32.step();
            mp.ZeroGrad();
            var output = low.call(xb);
            Assert.That(output.dtype, Is.EqualTo(ScalarType.Float32), "the model's output is upcast for the loss");
            mp.Backward(nn.functional.cross_entropy(output, yb));
            Assert.That(mp.Step(optLow), Is.True);
        }
        fp32.eval(); low.eval();
        using (no_grad())
            return (nn.functional.cross_entropy(fp32.call(x), y).item<float>(), nn.functional.cross_entropy(low.call(x), y).item<float>(), start);
    }

    // The bound: bf16 keeps 8 significant bits (relative rounding 2^-9 ≈ 0.2% per stored value;
    // libtorch's CPU bf16 GEMMs accumulate in fp32), so the two runs follow the same path up to
    // per-step perturbations of ~1% of the update, which Adam's normalized steps do not amplify on
    // this convex-ish problem. Observed differences are a few 1e-3 (loss ~0.1-0.3); the bound 0.05
    // absolute is ~10x that, still far below the fall from ~1.4 it must not mask.
    [Test]
    public void Bf16_mlp_with_layernorm_and_batchnorm_trains_close_to_fp32()
    {
        var (l32, l16, start) = TrainBoth(Mlp, x => x, 300);
        TestContext.Out.WriteLine($"MLP: start {start:F4}, fp32 {l32:F4}, bf16 {l16:F4}");
        Assert.That(l32, Is.LessThan(0.5 * start));
        Assert.That(Math.Abs(l16 - l32), Is.LessThan(0.05));
    }

    [Test]
    public void Bf16_cnn_with_batchnorm2d_trains_close_to_fp32()
    {
        var (l32, l16, start) = TrainBoth(Cnn, x => x.reshape(Samples, 1, 4, 4), 150);
        TestContext.Out.WriteLine($"CNN: start {start:F4}, fp32 {l32:F4}, bf16 {l16:F4}");
        Assert.That(l32, Is.LessThan(0.5 * start));
        Assert.That(Math.Abs(l16 - l32), Is.LessThan(0.05));
    }

    [Test]
    public void Masters_are_fp32_copies_and_normalization_layers_stay_fp32()
    {
        manual_seed(3);
        var model = Cnn();
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        using (no_grad())   // running statistics that bf16 cannot hold exactly
            foreach (var (name, t) in model.named_buffers())
                if (name.EndsWith("running_var")) t.fill_(1.0 + 1.0 / 3.0);
        var runningVar = model.named_buffers().First(b => b.name == "bn1.running_var").buffer.detach().clone();
        using var mp = MixedPrecision.Bf16(model);

        Assert.That(mp.Float32Modules.Count, Is.EqualTo(2));
        foreach (var (name, p) in model.named_parameters())
            Assert.That(p.dtype, Is.EqualTo(name.StartsWith("bn") ? ScalarType.Float32 : ScalarType.BFloat16), name);
        foreach (var (name, b) in model.named_buffers())
            Assert.That(b.dtype, Is.EqualTo(name.EndsWith("num_batches_tracked") ? ScalarType.Int64 : ScalarType.Float32), name);
        Assert.That(Same(model.named_buffers().First(b => b.name == "bn1.running_var").buffer, runningVar), Is.True, "not rounded through bf16");
        foreach (var (name, master) in mp.NamedMasterParameters)
        {
            Assert.That(master.dtype, Is.EqualTo(ScalarType.Float32), name);
            Assert.That(Same(master, before[name]), Is.True, $"{name}: the master holds the original fp32 values");
        }
        // Norm parameters are their own masters; the others are separate tensors.
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, master) in mp.NamedMasterParameters)
            Assert.That(ReferenceEquals(master, parameters[name]), Is.EqualTo(name.StartsWith("bn")), name);

        // Inside a step the norm layers see fp32 and their running statistics stay fp32.
        var seen = new List<ScalarType>();
        ((nn.Module<Tensor, Tensor>)mp.Float32Modules[0]).register_forward_hook((_, x, y) => { seen.Add(x.dtype); return y; });
        var opt = optim.SGD(mp.MasterParameters, 0.1);
        var (x, y) = Teacher(1);
        mp.Backward(nn.functional.cross_entropy(model.call(x.reshape(Samples, 1, 4, 4)), y));
        Assert.That(mp.Step(opt), Is.True);
        Assert.That(seen, Is.EqualTo(new[] { ScalarType.Float32 }));
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.That(p.grad!.dtype, Is.EqualTo(p.dtype), name);
            var master = mp.NamedMasterParameters.First(m => m.Name == name).Master;
            Assert.That(Same(master, before[name]), Is.False, $"{name} stepped");
            Assert.That(Same(p, master.to(p.dtype)), Is.True, $"{name}: the model holds the master rounded");
        }
        Assert.That(model.named_buffers().First(b => b.name == "bn1.running_mean").buffer.dtype, Is.EqualTo(ScalarType.Float32));
    }

    [Test]
    public void Fp16_on_cpu_skips_steps_while_the_scaled_gradients_overflow_then_steps()
    {
        manual_seed(4);
        var model = Mlp();
        // 2^40 · (gradients of order 1e-2..1) overflows fp16 (max 65504) for sure: the first steps are skipped.
        using var mp = MixedPrecision.Fp16(model, new LossScaler(init_scale: Math.Pow(2, 40), growth_interval: 1000));
        Assert.That(model.named_parameters().First().parameter.dtype, Is.EqualTo(ScalarType.Float16));
        using var opt = optim.Adam(mp.MasterParameters, 1e-3);
        var (x, y) = Teacher(2);
        var masters0 = mp.MasterParameters.Select(m => m.detach().clone()).ToList();
        var results = new List<bool>();
        var scales = new List<double>();
        for (int s = 0; s < 40; s++)
        {
            using var scope = NewDisposeScope();
            mp.ZeroGrad();
            mp.Backward(nn.functional.cross_entropy(model.call(x.narrow(0, 0, 64)), y.narrow(0, 0, 64)));
            bool stepped = mp.Step(opt);
            results.Add(stepped);
            scales.Add(mp.Scaler!.GetScale());
            if (s == 0)
            {
                Assert.That(stepped, Is.False);
                for (int i = 0; i < masters0.Count; i++)
                    Assert.That(Same(mp.MasterParameters[i], masters0[i]), Is.True, "a skipped step leaves the masters");
            }
        }
        int skipped = results.TakeWhile(r => !r).Count();
        TestContext.Out.WriteLine($"skipped {skipped} steps, then scale {scales[skipped]}");
        Assert.That(skipped, Is.GreaterThan(10).And.LessThan(40));
        Assert.That(results.Skip(skipped).All(r => r), Is.True, "once the scale fits, no more overflow on this batch");
        // The scale sequence is the reference's for the observed found_inf flags.
        Assert.That(scales, Is.EqualTo(AmpUpdateScaleReference.Sequence(Math.Pow(2, 40), results.Select(r => !r).ToList(), growthInterval: 1000)));
        Assert.That(mp.MasterParameters.All(m => m.isfinite().all().ToBoolean()), Is.True);
    }

    [Test]
    public void Bf16_with_scaler_skips_a_forced_inf_gradient_and_follows_the_reference_scale_sequence()
    {
        manual_seed(6);
        var model = Mlp();
        using var mp = MixedPrecision.Bf16(model, new LossScaler(init_scale: 8, growth_interval: 3));
        using var opt = optim.SGD(mp.MasterParameters, 0.01);
        var (x, y) = Teacher(3);
        // Scripted: inf (or NaN) forced into one gradient at these steps.
        var poison = new Dictionary<int, float> { [2] = float.PositiveInfinity, [3] = float.NaN, [9] = float.NegativeInfinity, [17] = float.PositiveInfinity };
        var flags = new List<bool>();
        var scales = new List<double>();
        for (int s = 0; s < 24; s++)
        {
            using var scope = NewDisposeScope();
            mp.ZeroGrad();
            mp.Backward(nn.functional.cross_entropy(model.call(x.narrow(0, 0, 64)), y.narrow(0, 0, 64)));
            if (poison.TryGetValue(s, out var bad))
                using (no_grad()) model.named_parameters().First(p => p.name == (s % 2 == 0 ? "fc2.weight" : "ln.weight")).parameter.grad!.view(-1)[0] = bad;
            var masters = mp.MasterParameters.Select(m => m.detach().clone()).ToList();
            bool stepped = mp.Step(opt);
            Assert.That(stepped, Is.EqualTo(!poison.ContainsKey(s)), $"step {s}");
            if (!stepped)
                for (int i = 0; i < masters.Count; i++) Assert.That(Same(mp.MasterParameters[i], masters[i]), Is.True);
            flags.Add(!stepped);
            scales.Add(mp.Scaler!.GetScale());
        }
        Assert.That(scales, Is.EqualTo(AmpUpdateScaleReference.Sequence(8, flags, growthInterval: 3)));
    }

    [Test]
    public void Bf16_without_scaler_steps_every_time_and_unused_parameters_get_no_update()
    {
        manual_seed(8);
        var used = nn.Linear(In, Classes);
        var unused = nn.Linear(In, Classes);
        var model = nn.Sequential(("used", used), ("spare", nn.Identity()));
        model.register_module("unused", unused);
        using var mp = MixedPrecision.Bf16(model);
        Assert.That(mp.Scaler, Is.Null);
        using var opt = optim.Adam(mp.MasterParameters, 1e-2);
        var before = mp.NamedMasterParameters.ToDictionary(m => m.Name, m => m.Master.detach().clone());
        var (x, y) = Teacher(1);
        for (int s = 0; s < 3; s++)
        {
            mp.ZeroGrad();
            mp.Backward(nn.functional.cross_entropy(model.call(x), y));
            Assert.That(mp.Step(opt), Is.True);
        }
        foreach (var (name, master) in mp.NamedMasterParameters)
        {
            Assert.That(Same(master, before[name]), Is.EqualTo(name.StartsWith("unused")), name);
            if (name.StartsWith("unused")) Assert.That(master.grad, Is.Null);
        }
    }

    [Test]
    public void State_round_trip_restores_masters_model_and_scaler()
    {
        manual_seed(9);
        var a = Mlp();
        var b = Copy(a, Mlp);
        using var mpA = MixedPrecision.Fp16(a, new LossScaler(init_scale: 256, growth_interval: 2));
        using var mpB = MixedPrecision.Fp16(b);
        using var opt = optim.SGD(mpA.MasterParameters, 0.1);
        var (x, y) = Teacher(4);
        for (int s = 0; s < 5; s++)
        {
            mpA.ZeroGrad();
            mpA.Backward(nn.functional.cross_entropy(a.call(x), y));
            mpA.Step(opt);
        }
        mpB.load_state_dict(mpA.state_dict());
        Assert.That(mpB.Scaler!.GetScale(), Is.EqualTo(mpA.Scaler!.GetScale()));
        Assert.That(mpB.Scaler.GetGrowthTracker(), Is.EqualTo(mpA.Scaler.GetGrowthTracker()));
        Assert.That(mpB.Scaler.GrowthInterval, Is.EqualTo(2));
        for (int i = 0; i < mpA.MasterParameters.Count; i++)
            Assert.That(Same(mpB.MasterParameters[i], mpA.MasterParameters[i]), Is.True);
        var pa = a.parameters().ToList();
        var pb = b.parameters().ToList();
        for (int i = 0; i < pa.Count; i++) Assert.That(Same(pb[i], pa[i]), Is.True);

        var state = mpA.state_dict();
        state.Remove("master.fc1.weight");
        Assert.That(() => mpB.load_state_dict(state), Throws.ArgumentException.With.Message.Contains("master.fc1.weight"));
        state = mpA.state_dict();
        state["master.fc1.bias"] = zeros(3);
        Assert.That(() => mpB.load_state_dict(state), Throws.ArgumentException.With.Message.Contains("master.fc1.bias"));
    }

    [Test]
    public void Dispose_removes_the_hooks_and_bad_input_throws()
    {
        // No normalization layer: after Dispose a model with fp32 norm layers between bf16 layers is
        // not callable without the hooks' casts.
        var model = nn.Sequential(nn.Linear(In, 8), nn.ReLU(), nn.Linear(8, Classes));
        var mp = MixedPrecision.Bf16(model);
        var (x, _) = Teacher(1);
        Assert.That(model.call(x).dtype, Is.EqualTo(ScalarType.Float32));
        Assert.That(mp.CastInput(x).dtype, Is.EqualTo(ScalarType.BFloat16));
        Assert.That(mp.CastInput(zeros(2, ScalarType.Int64)).dtype, Is.EqualTo(ScalarType.Int64));
        Assert.Throws<ArgumentException>(() => mp.Backward(zeros(2)));
        Assert.Throws<ArgumentException>(() => mp.Backward(zeros(1, ScalarType.Int64)));
        mp.Dispose();
        model.eval();
        Assert.That(model.call(x.to(ScalarType.BFloat16)).dtype, Is.EqualTo(ScalarType.BFloat16), "no more casts");
        Assert.Throws<ObjectDisposedException>(() => mp.Step(optim.SGD(model.parameters(), 0.1)));
    }

    /// <summary>3,000 bf16 + scaler steps with a dispose scope per step: live tensors flat, resident memory flat.</summary>
    [Test]
    public void No_memory_growth_over_many_steps()
    {
        {
            manual_seed(10);
            var model = Mlp();
            using var mp = MixedPrecision.Bf16(model, new LossScaler(init_scale: 1024, growth_interval: 50));
            using var opt = optim.Adam(mp.MasterParameters, 1e-3);
            var (x, y) = Teacher(5);
            void Run(int n)
            {
                for (int s = 0; s < n; s++)
                {
                    using var scope = NewDisposeScope();
                    var xb = x.narrow(0, s * 16 % Samples, 16);
                    var yb = y.narrow(0, s * 16 % Samples, 16);
                    mp.ZeroGrad();
                    mp.Backward(nn.functional.cross_entropy(model.call(xb), yb));
                    mp.Step(opt);
                }
            }
            Run(1000); // glibc's arenas settle over the first thousand steps
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
            long live0 = DisposeScopeManager.Statistics.ThreadTotalLiveCount, rss0 = Rss();
            Run(3000);
            GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
            long live1 = DisposeScopeManager.Statistics.ThreadTotalLiveCount, rss1 = Rss();
            TestContext.Out.WriteLine($"live tensors {live0} -> {live1}, RSS {rss0 >> 20} -> {rss1 >> 20} MB");
            Assert.That(live1, Is.EqualTo(live0));
            // 3,000 steps leaking one 64×64 fp32 tensor (a master gradient) each would add 48 MB;
            // glibc's arenas move resident memory by a few MB (observed -4 to +16 MB over 1,500
            // steps after a 300-step warm-up in full-suite runs; 12,000 steps alone: +8 MB from
            // step 2,000 to 10,000), so the bound is half a leak.
            Assert.That(rss1 - rss0, Is.LessThan(24L << 20));
        }
    }

    /// <summary>Same shape and bitwise-equal values (TorchSharp's Tensor.equal is elementwise).</summary>
    static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().ToBoolean();
    }

    static long Rss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }
}
