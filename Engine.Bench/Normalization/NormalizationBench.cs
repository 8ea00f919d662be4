using System.Diagnostics;
using Engine.Normalization;
using TorchSharp.Modules;

namespace Engine.Bench.Normalization;

/// <summary>
/// Issue 9 items 5 and 6: Engine's BatchNorm2d and LayerNorm forward+backward, as the formula in
/// tensor ops and through the fused-kernel switch, against TorchSharp's built-in modules on the same
/// shapes; and inference of a conv–BatchNorm–ReLU stack against the same stack after
/// BatchNormFolding. Rounds are interleaved (every variant once per round) so the shared machine's
/// drift hits all variants alike; each line gives the median and range of the per-iteration time
/// over the rounds, and the ratio of medians against TorchSharp (or against the unfolded model).
/// Run: <c>NormalizationBench.Run(args)</c> with optional "threads=1,2", "rounds=7", "quick".
/// </summary>
public static class NormalizationBench
{
    public static int Run(string[] args)
    {
        var threads = Arg(args, "threads", "1,2").Split(',').Select(int.Parse).ToArray();
        var rounds = int.Parse(Arg(args, "rounds", "7"));
        var quick = args.Contains("quick");
        Console.WriteLine($"Normalization bench: libtorch {__version__}, {Environment.ProcessorCount} logical CPUs, {rounds} rounds");
        foreach (var t in threads)
        {
            set_num_threads(t);
            Console.WriteLine($"\n== {t} thread(s)");
            BatchNorm2dTraining(rounds, quick);
            LayerNormTraining(rounds, quick);
            FoldedInference(rounds, quick);
        }
        return 0;
    }

    static string Arg(string[] args, string name, string fallback) =>
        args.FirstOrDefault(a => a.StartsWith(name + "="))?[(name.Length + 1)..] ?? fallback;

    static void BatchNorm2dTraining(int rounds, bool quick)
    {
        long[] shape = quick ? [8, 32, 28, 28] : [32, 64, 28, 28];
        var c = shape[1];
        var variants = new (string, nn.Module<Tensor, Tensor>)[]
        {
            ("TorchSharp nn.BatchNorm2d", nn.BatchNorm2d(c)),
            ("Engine BatchNorm2d (formula)", new Engine.Normalization.BatchNorm2d(c)),
            ("Engine BatchNorm2d (fused)", new Engine.Normalization.BatchNorm2d(c) { UseFusedKernel = true }),
        };
        Compare($"BatchNorm2d forward+backward, training, input {string.Join("x", shape)}", variants, shape, rounds, train: true);
    }

    static void LayerNormTraining(int rounds, bool quick)
    {
        long[] shape = quick ? [8, 64, 256] : [32, 128, 512];
        var d = shape[^1];
        var variants = new (string, nn.Module<Tensor, Tensor>)[]
        {
            ("TorchSharp nn.LayerNorm", nn.LayerNorm(d)),
            ("Engine LayerNorm (formula)", new Engine.Normalization.LayerNorm(d)),
            ("Engine LayerNorm (fused)", new Engine.Normalization.LayerNorm(d) { UseFusedKernel = true }),
        };
        Compare($"LayerNorm({d}) forward+backward, input {string.Join("x", shape)}", variants, shape, rounds, train: true);
    }

    static void FoldedInference(int rounds, bool quick)
    {
        long[] shape = quick ? [8, 32, 16, 16] : [32, 32, 32, 32];
        var c = shape[1];
        var model = nn.Sequential(
            ("conv1", nn.Conv2d(c, c, 3, padding: 1)), ("bn1", new Engine.Normalization.BatchNorm2d(c)), ("relu1", nn.ReLU()),
            ("conv2", nn.Conv2d(c, c, 3, padding: 1)), ("bn2", new Engine.Normalization.BatchNorm2d(c)), ("relu2", nn.ReLU()),
            ("conv3", nn.Conv2d(c, c, 1)), ("bn3", new Engine.Normalization.BatchNorm2d(c)), ("relu3", nn.ReLU()));
        using (no_grad()) for (var i = 0; i < 3; i++) model.forward(randn(shape));   // running statistics
        model.eval();
        var fusedBn = nn.Sequential(
            ("conv1", M(model[0])), ("bn1", WithFused(M(model[1]))), ("relu1", M(model[2])),
            ("conv2", M(model[3])), ("bn2", WithFused(M(model[4]))), ("relu2", M(model[5])),
            ("conv3", M(model[6])), ("bn3", WithFused(M(model[7]))), ("relu3", M(model[8])));
        var folded = BatchNormFolding.Fold(model);
        var variants = new (string, nn.Module<Tensor, Tensor>)[]
        {
            ("conv-BN-ReLU x3, Engine BN (formula)", model),
            ("conv-BN-ReLU x3, Engine BN (fused)", fusedBn),
            ("conv-ReLU x3, BN folded", folded),
        };
        Compare($"Inference (eval, no_grad), input {string.Join("x", shape)}", variants, shape, rounds, train: false);
    }

    static nn.Module<Tensor, Tensor> M(nn.IModule<Tensor, Tensor> m) => (nn.Module<Tensor, Tensor>)m;

    /// <summary>A second Engine BatchNorm2d with the same state and the fused kernel on.</summary>
    static nn.Module<Tensor, Tensor> WithFused(nn.IModule<Tensor, Tensor> module)
    {
        var bn = (Engine.Normalization.BatchNorm2d)module;
        var copy = new Engine.Normalization.BatchNorm2d(bn.num_features) { UseFusedKernel = true };
        copy.load_state_dict(bn.state_dict());
        copy.eval();
        return copy;
    }

    static void Compare(string title, (string Name, nn.Module<Tensor, Tensor> Module)[] variants, long[] shape, int rounds, bool train)
    {
        Console.WriteLine($"\n{title}");
        var x = randn(shape);
        var g = randn(shape);
        // Enough iterations per measurement to last ~50 ms at the first variant's speed.
        var perIteration = Time(variants[0].Module, x, g, train, 3);
        var iterations = Math.Max(3, (int)(0.05 / perIteration));
        foreach (var (_, m) in variants) Time(m, x, g, train, iterations);   // warm-up: JIT, allocator
        var samples = variants.Select(_ => new List<double>()).ToArray();
        for (var r = 0; r < rounds; r++)
            for (var v = 0; v < variants.Length; v++)
                samples[v].Add(Time(variants[v].Module, x, g, train, iterations));
        var baseline = Median(samples[0]);
        for (var v = 0; v < variants.Length; v++)
        {
            var med = Median(samples[v]);
            Console.WriteLine($"  {variants[v].Name,-40} {med * 1e3,9:F3} ms  [{samples[v].Min() * 1e3:F3} – {samples[v].Max() * 1e3:F3}]  x{med / baseline:F2}");
        }
    }

    /// <summary>Seconds per iteration of forward (+ backward of Σ y·g when training).</summary>
    static double Time(nn.Module<Tensor, Tensor> module, Tensor x, Tensor g, bool train, int iterations)
    {
        if (train) module.train(); else module.eval();
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            using var scope = NewDisposeScope();
            if (train)
            {
                var xi = x.detach().requires_grad_();
                module.forward(xi).mul(g).sum().backward();
                foreach (var p in module.parameters()) p.grad?.zero_();
            }
            else
            {
                using var _ = no_grad();
                module.forward(x);
            }
        }
        return sw.Elapsed.TotalSeconds / iterations;
    }

    static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
