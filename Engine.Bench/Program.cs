// Engine against TorchSharp's built-ins and Python PyTorch 1.13 on this machine (CPU): the
// optimizer step alone and the MNIST MLP epoch, beside the memory-traffic floor. One process runs
// at one intra-op thread count; scripts/bench.sh runs it and scripts/bench_python.py in
// interleaved rounds at 1 and 2 threads and writes Engine.Bench/RESULTS.md.
//
//   dotnet Engine.Bench.dll [results.json] [--threads N] [--repeats R] [--epochs E]
//       [--only bandwidth,optim,epoch,cnn] [--cases name,name] [--data data/mnist] [--scale S]
//   dotnet Engine.Bench.dll norm [threads=1,2] [rounds=7] [quick]
//   dotnet Engine.Bench.dll precision [threads=1,2] [rounds=7] [epoch=1|0]
//   dotnet Engine.Bench.dll train [threads=1,2] [rounds=3] [limit=200] [parts=micro,overhead,loader] [passive=1]
using System.Globalization;
using Engine.Bench;

// `Engine.Bench norm [threads=1,2] [rounds=7] [quick]`: Engine's normalization layers (formula and
// fused) against TorchSharp's, and batch-norm folding (Engine.Bench/Normalization/).
if (args.FirstOrDefault() == "norm") return Engine.Bench.Normalization.NormalizationBench.Run(args[1..]);
// `Engine.Bench precision [threads=1,2] [rounds=7] [epoch=1|0]`: bf16 mixed precision against fp32
// (Engine.Bench/Precision/).
if (args.FirstOrDefault() == "precision") return Engine.Bench.Precision.PrecisionBench.Run(args[1..]);
// `Engine.Bench train [threads=1,2] [rounds=3] [limit=200] [parts=overhead,loader]`: the Trainer's
// overhead over a hand-written loop, and the loader's share of the epoch (Engine.Bench/Training/).
if (args.FirstOrDefault() == "train") return Engine.Bench.Training.TrainerBench.Run(args[1..]);

string? jsonPath = null;
int? threads = null;
int repeats = 11, epochs = 1;
double scale = 1.0;
string data = Path.Combine(Directory.GetCurrentDirectory(), "data", "mnist");
HashSet<string> parts = ["bandwidth", "optim", "epoch"];
HashSet<string>? cases = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--threads": threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--repeats": repeats = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--epochs": epochs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--scale": scale = double.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--data": data = args[++i]; break;
        case "--only": parts = [.. args[++i].Split(',')]; break;
        case "--cases": cases = [.. args[++i].Split(',')]; break;
        case "-h" or "--help":
            Console.WriteLine("usage: Engine.Bench [results.json] [--threads N] [--repeats R] [--epochs E] [--only bandwidth,optim,epoch,cnn] [--cases a,b] [--data DIR] [--scale S]");
            return 0;
        default: jsonPath = args[i]; break;
    }
}

if (threads is int t) Engine.Ops.SetNumThreads(t, "Engine.Bench --threads");
var h = new Harness { Repeats = repeats, Scale = scale };
Console.WriteLine($"engine bench: TorchSharp on libtorch {Engine.Runtime.LibTorchVersion}, {get_num_threads()} intra-op thread(s), .NET {Environment.Version}, {Environment.ProcessorCount} cores");

if (parts.Contains("bandwidth")) Bandwidth.Run(h);
if (parts.Contains("optim")) OptimizerSteps.Run(h, name => cases is null || cases.Contains(name));
if (parts.Contains("epoch")) MnistEpoch.RunAll(h, data, epochs, name => cases is null || cases.Contains(name));
// Not in the default set (a CNN epoch takes a minute): --only cnn [--cases cnn_engine,...].
if (parts.Contains("cnn")) MnistCnnEpoch.RunAll(h, data, epochs, name => cases is null || cases.Contains(name));
// Under mpirun (scripts/launch.sh N ... --only allreduce [--cases floor,sweep,step]): Engine.Bench/Distributed/.
if (parts.Contains("allreduce")) Engine.Bench.Distributed.AllReduceBench.Run(h, data, name => cases is null || cases.Contains(name));

if (jsonPath is not null)
{
    var meta = new Dictionary<string, object>
    {
        ["runtime"] = "engine",
        ["torch"] = Engine.Runtime.LibTorchVersion,
        ["threads"] = get_num_threads(),
        ["dotnet"] = Environment.Version.ToString(),
        ["repeats"] = repeats,
        ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "",
    };
    h.WriteJson(jsonPath, meta, new Dictionary<string, double[]>());
    Console.WriteLine($"wrote {jsonPath}");
}
return 0;
