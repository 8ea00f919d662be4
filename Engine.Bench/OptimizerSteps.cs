using Parameter = TorchSharp.Modules.Parameter;
using Engine.Optim;

namespace Engine.Bench;

/// <summary>
/// The optimizer step alone, gradients fixed, fp32 on CPU: Engine (Auto, which is the fused
/// kernel on CPU, and the flat-buffer path) against TorchSharp's built-in optimizer, timed
/// round-robin. scripts/bench_python.py times PyTorch 1.13's foreach=True on the same shapes.
/// Sets: "mnist", the 535,818 parameters of the MLP 784-512-256-10 in its 6 tensors; "10m",
/// 10,000,000 parameters in 100 tensors of 100,000.
/// </summary>
static class OptimizerSteps
{
    public static readonly Dictionary<string, long[][]> Sets = new()
    {
        ["mnist"] = [[512, 784], [512], [256, 512], [256], [10, 256], [10]],
        ["10m"] = Enumerable.Range(0, 100).Select(_ => new long[] { 100_000 }).ToArray(),
    };

    /// <summary>Iterations per timed repeat: ~10-50 ms a repeat.</summary>
    public static int N(string set) => set == "mnist" ? 40 : 2;

    static Parameter[] MakeParameters(long[][] shapes)
    {
        manual_seed(0);
        var ps = shapes.Select(s => new Parameter(randn(s))).ToArray();
        foreach (var p in ps) p.grad = randn_like(p).DetachFromDisposeScope();
        return ps;
    }

    static torch.optim.Optimizer? Make(string optimizer, string runtime, Parameter[] ps) => (optimizer, runtime) switch
    {
        ("adam", "engine") => new Engine.Optim.Adam(ps, lr: 1e-3),
        ("adam", "flat") => new Engine.Optim.Adam(ps, lr: 1e-3) { Implementation = Implementation.Flat },
        ("adam", "torchsharp") => torch.optim.Adam(ps, lr: 1e-3),
        ("adamw", "engine") => new Engine.Optim.AdamW(ps, lr: 1e-3, weightDecay: 1e-2),
        ("adamw", "flat") => new Engine.Optim.AdamW(ps, lr: 1e-3, weightDecay: 1e-2) { Implementation = Implementation.Flat },
        ("adamw", "torchsharp") => torch.optim.AdamW(ps, lr: 1e-3, weight_decay: 1e-2),
        ("sgdm", "torchsharp") => torch.optim.SGD(ps, 1e-2, momentum: 0.9),
        ("sgdm", "engine") => new Engine.Optim.Sgd(ps, lr: 1e-2, momentum: 0.9),
        ("sgdm", "flat") => new Engine.Optim.Sgd(ps, lr: 1e-2, momentum: 0.9) { Implementation = Implementation.Flat },
        _ => null,
    };

    public static void Run(Harness h, Func<string, bool> want)
    {
        Console.WriteLine("optimizer step (fixed gradients, fp32, CPU):");
        foreach (var (set, shapes) in Sets)
        foreach (var optimizer in new[] { "adam", "adamw", "sgdm" })
        {
            var cases = new List<Harness.Case>();
            var owned = new List<IDisposable>();
            foreach (var runtime in new[] { "engine", "flat", "torchsharp" })
            {
                string name = $"{optimizer}_{set}_{runtime}";
                if (!want(name)) continue;
                var ps = MakeParameters(shapes);
                var opt = Make(optimizer, runtime, ps);
                if (opt is null) { foreach (var p in ps) p.Dispose(); continue; }
                owned.Add(opt);
                owned.AddRange(ps);
                string what = runtime switch { "engine" => "Engine, Auto (fused on CPU)", "flat" => "Engine, flat buffers", _ => "TorchSharp built-in" };
                cases.Add(new Harness.Case(name, "optim", $"{optimizer} step, {set} parameters, {what}", N(set), k =>
                {
                    for (int i = 0; i < k; i++) opt.step();
                }));
            }
            if (cases.Count > 0) h.MeasureInterleaved(cases);
            foreach (var o in owned) o.Dispose();
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
    }
}
