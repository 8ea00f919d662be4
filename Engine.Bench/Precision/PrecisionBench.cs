using System.Diagnostics;
using Engine.Data;
using Engine.Precision;
using TorchSharp.Modules;

namespace Engine.Bench.Precision;

/// <summary>
/// Issue 11 item 3: bf16 mixed precision (Engine.Precision.MixedPrecision, fp32 masters, BatchNorm in
/// fp32) against plain fp32 on the CPU. Measures (1) one training step (forward, loss, backward,
/// Adam step) of a small MNIST CNN, conv32–BN–ReLU–pool, conv64–BN–ReLU–pool, fc128–ReLU, fc10,
/// batch 128 of 28×28; (2) a 512×512 by 512×512 matmul (fp16 too); at each thread count, fp32 and bf16
/// interleaved round by round, each line the median and range over the rounds; then (3) one MNIST
/// epoch of that CNN in each precision (Adam 1e-3, batch 128, the same seed and batch order) and its
/// test accuracy. Run: <c>dotnet run --project Engine.Bench -c Release -- precision [threads=1,2]
/// [rounds=7] [epoch=1|0] [steps=469] [data=data/mnist]</c> (steps: stop the epoch early).
/// </summary>
public static class PrecisionBench
{
    public static int Run(string[] args)
    {
        var threads = Arg(args, "threads", "1,2").Split(',').Select(int.Parse).ToArray();
        int rounds = int.Parse(Arg(args, "rounds", "7"));
        bool epoch = Arg(args, "epoch", "1") != "0";
        int steps = int.Parse(Arg(args, "steps", "469"));
        string data = Arg(args, "data", Path.Combine(Directory.GetCurrentDirectory(), "data", "mnist"));
        Console.WriteLine($"Precision bench: libtorch {__version__}, {Environment.ProcessorCount} logical CPUs, {rounds} rounds, load {LoadAverage()}");
        foreach (var t in threads)
        {
            Ops.SetNumThreads(t, "PrecisionBench threads=");
            Console.WriteLine($"\n== {t} thread(s)");
            TrainingStep(rounds);
            Matmul(rounds);
        }
        if (epoch)
        {
            if (!File.Exists(Path.Combine(data, "train-images-idx3-ubyte")))
                Console.WriteLine($"\nMNIST epoch: no data in {data} (scripts/get-mnist.sh); skipped");
            else
            {
                Ops.SetNumThreads(threads.Max(), "PrecisionBench threads=");
                Epochs(data, steps);
            }
        }
        return 0;
    }

    static string Arg(string[] args, string name, string fallback) =>
        args.FirstOrDefault(a => a.StartsWith(name + "="))?[(name.Length + 1)..] ?? fallback;

    static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "?";

    static Sequential Cnn()
    {
        manual_seed(0);
        return nn.Sequential(
            ("conv1", nn.Conv2d(1, 32, 3, padding: 1)), ("bn1", nn.BatchNorm2d(32)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
            ("conv2", nn.Conv2d(32, 64, 3, padding: 1)), ("bn2", nn.BatchNorm2d(64)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
            ("flat", nn.Flatten()), ("fc1", nn.Linear(64 * 7 * 7, 128)), ("relu3", nn.ReLU()), ("fc2", nn.Linear(128, 10)));
    }

    /// <summary>A model, its optimizer and the step body, in fp32 or bf16 mixed precision.</summary>
    sealed class Trainer : IDisposable
    {
        readonly Sequential _model = Cnn();
        readonly MixedPrecision? _mp;
        readonly torch.optim.Optimizer _opt;

        public Trainer(bool bf16)
        {
            if (bf16) _mp = MixedPrecision.Bf16(_model);
            _opt = torch.optim.Adam(_mp?.MasterParameters ?? _model.parameters(), 1e-3);
        }

        public void Step(Tensor x, Tensor y)
        {
            using var scope = NewDisposeScope();
            if (_mp is null)
            {
                _opt.zero_grad();
                nn.functional.cross_entropy(_model.call(x), y).backward();
                _opt.step();
                return;
            }
            _mp.ZeroGrad();
            _mp.Backward(nn.functional.cross_entropy(_model.call(x), y));
            _mp.Step(_opt);
        }

        public double Accuracy(Tensor x, Tensor y)
        {
            _model.eval();
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            long correct = 0;
            for (long i = 0; i < x.shape[0]; i += 1000)
            {
                long n = Math.Min(1000, x.shape[0] - i);
                correct += _model.call(x.narrow(0, i, n)).argmax(1).eq(y.narrow(0, i, n)).sum().ToInt64();
            }
            _model.train();
            return correct / (double)x.shape[0];
        }

        public void Dispose()
        {
            _opt.Dispose();
            _mp?.Dispose();
            _model.Dispose();
        }
    }

    /// <summary>Times each variant's body (n calls) once per round, variants interleaved; prints median and range per call.</summary>
    static double[] Compare(string title, (string Name, Action Body)[] variants, int n, int rounds)
    {
        foreach (var v in variants) for (int i = 0; i < 2; i++) v.Body();  // warm-up: JIT, allocator, oneDNN primitives
        var times = variants.Select(_ => new double[rounds]).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int k = 0; k < variants.Length; k++)
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int i = 0; i < n; i++) variants[k].Body();
                times[k][r] = Stopwatch.GetElapsedTime(t0).TotalSeconds / n;
            }
        Console.WriteLine($"{title}  (per call, {rounds} rounds × {n})");
        var medians = times.Select(Median).ToArray();
        for (int k = 0; k < variants.Length; k++)
            Console.WriteLine($"  {variants[k].Name,-10} median {Harness.Format(medians[k]),11}  range {Harness.Format(times[k].Min()),11} – {Harness.Format(times[k].Max()),-11}  ratio to first {medians[k] / medians[0]:F2}");
        return medians;
    }

    static double Median(double[] values)
    {
        var s = values.OrderBy(v => v).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    static void TrainingStep(int rounds)
    {
        manual_seed(1);
        using var x = rand(128, 1, 28, 28);
        using var y = randint(0, 10, 128, ScalarType.Int64);
        using var fp32 = new Trainer(bf16: false);
        using var bf16 = new Trainer(bf16: true);
        Compare("MNIST CNN training step (conv32-BN-conv64-BN-fc128, batch 128, Adam)",
            [("fp32", () => fp32.Step(x, y)), ("bf16", () => bf16.Step(x, y))], 3, rounds);
    }

    static void Matmul(int rounds)
    {
        manual_seed(2);
        using var a = randn(512, 512);
        using var b = randn(512, 512);
        using var a16 = a.to(ScalarType.BFloat16);
        using var b16 = b.to(ScalarType.BFloat16);
        using var ah = a.to(ScalarType.Float16);
        using var bh = b.to(ScalarType.Float16);
        void Mm(Tensor p, Tensor q) { using var c = p.matmul(q); }
        Compare("matmul 512x512 · 512x512", [("fp32", () => Mm(a, b)), ("bf16", () => Mm(a16, b16)), ("fp16", () => Mm(ah, bh))], 5, rounds);
    }

    /// <summary>One epoch per precision, fp32 first, same initial weights and batch order; wall time and test accuracy.</summary>
    static void Epochs(string folder, int limit)
    {
        using var train = Mnist.Load(folder, train: true);
        using var test = Mnist.Load(folder, train: false);
        Console.WriteLine($"\nMNIST CNN, {(limit >= 469 ? "one epoch (60,000 digits" : $"the first {limit} steps of an epoch ({limit * 128} digits")}, batch 128, Adam 1e-3), {get_num_threads()} thread(s), load {LoadAverage()}");
        foreach (var bf16 in new[] { false, true })
        {
            using var trainer = new Trainer(bf16);
            var loader = new Engine.Data.DataLoader(train.Images, train.Labels, 128, generator: new torch.Generator(7));
            long t0 = Stopwatch.GetTimestamp();
            int steps = 0;
            foreach (var (x, y) in loader)
            {
                if (steps == limit) break;
                trainer.Step(x, y);
                steps++;
            }
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            double accuracy = trainer.Accuracy(test.Images, test.Labels);
            Console.WriteLine($"  {(bf16 ? "bf16" : "fp32"),-10} {seconds,7:F1} s ({steps} steps, {seconds / steps * 1e3:F1} ms/step)  test accuracy {accuracy:P2}  load {LoadAverage()}");
        }
    }
}
