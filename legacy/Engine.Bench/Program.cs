// Engine against Python PyTorch on the same libtorch and machine. scripts/bench_python.py has the
// same cases, sizes, iteration counts and loop structure; scripts/bench.sh runs both interleaved
// and prints the ratios.
//
//   dotnet run -c Release --project Engine.Bench -- results.json [--threads N] [--scale 0.1]
//       [--repeats 15] [--no-breakdown] [--only name,name]
using System.Globalization;
using Engine;
using Engine.Bench;

string? jsonPath = null;
int? threads = null;
double scale = 1.0;
int repeats = 15;
bool breakdown = true;
HashSet<string>? only = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--threads": threads = int.Parse(args[++i]); break;
        case "--scale": scale = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--repeats": repeats = int.Parse(args[++i]); break;
        case "--no-breakdown": breakdown = false; break;
        case "--only": only = [.. args[++i].Split(',')]; break;
        case "-h" or "--help":
            Console.WriteLine("usage: Engine.Bench [results.json] [--threads N] [--scale S] [--repeats R] [--no-breakdown] [--only a,b]");
            return 0;
        default: jsonPath = args[i]; break;
    }
}

Torch.DefaultDevice = Device.CPU;
if (threads is int t) Torch.NumThreads = t;
var h = new Harness { Repeats = repeats, Scale = scale };
bool Want(string name) => only is null || only.Contains(name);
Console.WriteLine($"engine: libtorch {Torch.LibTorchVersion}, {Torch.NumThreads} intra-op thread(s), .NET {Environment.Version}");

// Iteration counts: keep in step with bench_python.py (the JSON records them; bench.sh checks).
const int OpN = 5000, SmallN = 100, MnistN = 5;

// ---- a. per-op overhead: two 8-element float32 tensors on CPU ----
Console.WriteLine("per-op (a, b = ones(8), float32, CPU):");
using (var a = Torch.Ones(8))
using (var b = Torch.Ones(8))
using (var c = Torch.Ones(8))
{
    if (Want("add")) h.Measure("add", "op", "using var z = a + b", OpN, k =>
    {
        for (int i = 0; i < k; i++) { using var z = a + b; }
    });
    if (Want("add_")) h.Measure("add_", "op", "c.Add_(b) (in place)", OpN, k =>
    {
        for (int i = 0; i < k; i++) c.Add_(b);
    });
    if (Want("mul_scalar")) h.Measure("mul_scalar", "op", "using var z = a.Mul(2.0)", OpN, k =>
    {
        for (int i = 0; i < k; i++) { using var z = a.Mul(2.0); }
    });
}

// ---- b. training steps: forward, cross-entropy, backward, SGD, zero-grad ----
var checks = new Dictionary<string, double[]>();
void StepCase(string name, string description, int[] sizes, int batch, int n)
{
    if (!Want(name)) return;
    using var mlp = new Mlp(sizes, batch);
    // The first losses from the shared seed: bench.sh compares them with Python's to show both
    // sides do the same arithmetic.
    checks[name] = [mlp.Step(true), mlp.Step(true), mlp.Step(true)];
    h.Measure(name, "step", description, n, k =>
    {
        for (int i = 0; i < k; i++) mlp.Step();
    });
}
Console.WriteLine("training step (forward + cross-entropy + backward + SGD, one DisposeScope a step):");
StepCase("mlp_small_step", "MLP 32-64-10, batch 64", [32, 64, 10], 64, SmallN);
StepCase("mlp_mnist_step", "MLP 784-512-256-10, batch 128", [784, 512, 256, 10], 128, MnistN);

// ---- c. optimizer steps: the update alone, gradients fixed ----
// "mnist": the 535,818 parameters of the MLP 784-512-256-10 in its 6 tensors; "10m": 10,000,000
// parameters in 100 tensors of 100,000. Engine paths: the fused CPU kernel (what Auto picks on
// CPU), the multi-tensor _foreach_ path, and the readable per-tensor path.
Console.WriteLine("optimizer step (fixed gradients, fp32, CPU):");
var optimizerShapes = new Dictionary<string, long[][]>
{
    ["mnist"] = [[512, 784], [512], [256, 512], [256], [10, 256], [10]],
    ["10m"] = Enumerable.Range(0, 100).Select(_ => new long[] { 100_000 }).ToArray(),
};
foreach (var (setName, shapes) in optimizerShapes)
{
    var optimizers = new (string Name, Func<Tensor[], Engine.Optim.Optimizer> Make)[]
    {
        ("adam", p => new Engine.Optim.Adam(p, lr: 1e-3)),
        ("adamw", p => new Engine.Optim.AdamW(p, lr: 1e-3, weightDecay: 1e-2)),
        ("sgdm", p => new Engine.Optim.Sgd(p, lr: 1e-2, momentum: 0.9)),
    };
    foreach (var (optName, make) in optimizers)
    foreach (var (implName, impl) in new[] { ("", Engine.Optim.Implementation.Fused), ("_foreach", Engine.Optim.Implementation.Foreach), ("_single", Engine.Optim.Implementation.Readable) })
    {
        string name = $"{optName}_{setName}{implName}";
        if (!Want(name)) continue;
        Torch.ManualSeed(0);
        var ps = shapes.Select(shape => Torch.Randn(shape).RequiresGrad_().DetachFromDisposeScope()).ToArray();
        foreach (var p in ps)
        {
            using var g = Torch.RandnLike(p);
            p.Grad = g;
        }
        using var opt = make(ps);
        opt.Implementation = impl;
        int n = setName == "mnist" ? 50 : 5;
        h.Measure(name, "optim", $"{optName} step, {setName} parameters, {(implName.Length == 0 ? "fused" : implName[1..])}", n, k =>
        {
            for (int i = 0; i < k; i++) opt.Step();
        });
        foreach (var p in ps) p.Dispose();
    }
}

if (breakdown)
{
    Console.WriteLine("breakdown of one small add (engine only):");
    Breakdown.Run(h, 2000);
}

if (jsonPath is not null)
{
    var meta = new Dictionary<string, object>
    {
        ["runtime"] = "engine",
        ["torch"] = Torch.LibTorchVersion,
        ["threads"] = Torch.NumThreads,
        ["dotnet"] = Environment.Version.ToString(),
        ["repeats"] = repeats,
    };
    h.WriteJson(jsonPath, meta, checks);
    Console.WriteLine($"wrote {jsonPath}");
}
return 0;
