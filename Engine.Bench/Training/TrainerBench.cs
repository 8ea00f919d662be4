using System.Diagnostics;
using System.Globalization;
using Engine.Data;
using Engine.Regularization;
using Engine.Training;
using Engine.Training.Callbacks;
using Engine.Training.Metrics;
using Spectre.Console;
using TorchSharp.Modules;
using DataLoader = Engine.Data.DataLoader;

namespace Engine.Bench.Training;

/// <summary>
/// Issue 11 item 6. (a) The Trainer's overhead over a hand-written loop on the same model, data,
/// optimizer, seeds and initial weights: one MNIST epoch (Engine.Data.Mnist + DataLoader, batch
/// 128, shuffled by a seeded generator) of the MLP 784-512-256-10 and of a small CNN
/// (conv16–BN–ReLU–pool, conv32–BN–ReLU–pool, fc10), Engine's AdamW 1e-3.
/// <code>
/// hand:        per batch (own dispose scope): zero_grad, forward, cross_entropy, backward, step,
///              sum += loss·n on device; one host read of the sum per epoch
/// trainer:     new Trainer(model, opt, cross_entropy, [Accuracy]).Fit(loader, epochs: 1)
/// trainer_cb:  the same with ProgressBar (not interactive, to a null writer: what redirected
///              output gets) and CsvLogger (a temp file)
/// </code>
/// Diagnostic variants (variants=...): trainer_nometrics (no Accuracy), trainer_nodry
/// (DryRun = false), hand_acc (the hand loop plus argmax-eq-sum accuracy on device).
/// Variants run interleaved round by round (hand, trainer, trainer_cb, hand, ...), after one
/// untimed warm-up of each (JIT); overhead = (variant − hand) / hand on the minimum, the median
/// and the median of the per-round ratios.
/// (b) The loader's share: the wall time inside the batch enumerator's MoveNext (a
/// <see cref="TimedSource"/> around the loader) as a fraction of the CNN Trainer epoch, with
/// Workers 0 and 1, with and without ImageAugmentation (rotation 10°, zoom 0.1, translation 0.1).
/// Run: <c>dotnet Engine.Bench.dll train [threads=1,2] [rounds=3] [limit=200] [parts=overhead,loader]
/// [models=mlp,cnn] [variants=hand,trainer,trainer_cb] [loaders=w0,w1,w0_aug,w1_aug] [steps=100] [passive=0|1]
/// [data=data/mnist]</c> (limit: batches per epoch, 0 = the full 469; parts also takes micro, the
/// per-step comparison; passive=1 sets OMP_WAIT_POLICY=PASSIVE for libgomp before libtorch loads).
/// </summary>
public static partial class TrainerBench
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>The calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID, ns resolution): at one
    /// intra-op thread all of a step's work runs on it, and time the machine gave other processes
    /// does not count, so it is the load-robust figure; NaN where clock_gettime is not available.</summary>
    static double ThreadCpu()
    {
        try { return ClockGetTime(3, out var t) == 0 ? t.Seconds + t.Nanoseconds * 1e-9 : double.NaN; }
        catch (DllNotFoundException) { return double.NaN; }
        catch (EntryPointNotFoundException) { return double.NaN; }
    }

    const int Batch = 128;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);

    public static int Run(string[] args)
    {
        // passive=1: set OMP_WAIT_POLICY=PASSIVE in the native environment before the first torch
        // call loads libtorch and its libgomp (which reads the variable when it loads); .NET's
        // Environment.SetEnvironmentVariable does not reach the native environment on Unix.
        if (Arg(args, "passive", "0") == "1" && OperatingSystem.IsLinux()) SetEnv("OMP_WAIT_POLICY", "PASSIVE", 0);
        var threads = Arg(args, "threads", "1,2").Split(',').Select(int.Parse).ToArray();
        int rounds = int.Parse(Arg(args, "rounds", "3"), CultureInfo.InvariantCulture);
        long limit = long.Parse(Arg(args, "limit", "200"), CultureInfo.InvariantCulture);
        var parts = Arg(args, "parts", "overhead,loader").Split(',');
        var models = Arg(args, "models", "mlp,cnn").Split(',');
        var variants = Arg(args, "variants", "hand,trainer,trainer_cb").Split(',');
        var loaders = Arg(args, "loaders", "w0,w1,w0_aug,w1_aug").Split(',');
        int steps = int.Parse(Arg(args, "steps", "100"), CultureInfo.InvariantCulture);
        string data = Arg(args, "data", Path.Combine(Directory.GetCurrentDirectory(), "data", "mnist"));
        using var mnist = Mnist.Load(data, train: true);
        var dataset = mnist.ToDataset();
        Console.WriteLine($"Trainer bench: libtorch {__version__}, .NET {Environment.Version}, {Environment.ProcessorCount} logical CPUs, " +
                          $"{rounds} rounds, limit {(limit > 0 ? limit.ToString(CultureInfo.InvariantCulture) : "none")} batches/epoch, load {LoadAverage()}");
        foreach (var t in threads)
        {
            Ops.SetNumThreads(t, "TrainerBench threads=");
            if (parts.Contains("overhead"))
                foreach (var m in models) Overhead(dataset, m, variants, rounds, limit, t);
            if (parts.Contains("loader")) LoaderShare(dataset, loaders, rounds, limit, t);
            if (parts.Contains("micro")) foreach (var m in models) Micro(dataset, m, t, steps);
        }
        return 0;
    }

    static string Arg(string[] args, string name, string fallback) =>
        args.FirstOrDefault(a => a.StartsWith(name + "=", StringComparison.Ordinal))?[(name.Length + 1)..] ?? fallback;

    static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    static Sequential Model(string name)
    {
        manual_seed(0);
        return name switch
        {
            "mlp" => nn.Sequential(("flat", nn.Flatten()), ("fc1", nn.Linear(784, 512)), ("relu1", nn.ReLU()),
                ("fc2", nn.Linear(512, 256)), ("relu2", nn.ReLU()), ("fc3", nn.Linear(256, 10))),
            "cnn" => nn.Sequential(
                ("conv1", nn.Conv2d(1, 16, 3, padding: 1)), ("bn1", nn.BatchNorm2d(16)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
                ("conv2", nn.Conv2d(16, 32, 3, padding: 1)), ("bn2", nn.BatchNorm2d(32)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
                ("flat", nn.Flatten()), ("fc", nn.Linear(32 * 7 * 7, 10))),
            _ => throw new ArgumentException($"TrainerBench: unknown model '{name}' (mlp, cnn)"),
        };
    }

    static DataLoader Loader(IDataset dataset, int workers, bool augment) => new(dataset, Batch, shuffle: true,
        generator: new Generator(1), options: new DataLoaderOptions
        {
            Workers = workers,
            Augmentation = augment
                ? BatchTransform.Input(new ImageAugmentation(new AugmentationOptions { RotationDegrees = 10, Zoom = 0.1, Translation = 0.1 }, seed: 2))
                : null,
        });

    static Tensor CrossEntropy(Tensor output, Tensor target) => nn.functional.cross_entropy(output, target);

    /// <summary>One epoch of <paramref name="variant"/> on a fresh model (same seed, same initial
    /// weights) and loader (same generator seed): (epoch seconds, wait seconds, mean loss).</summary>
    static (double Seconds, double Wait, double Loss, double Cpu, double ThreadCpu) Epoch(string model, string variant, IDataset dataset, long limit, int workers = 0, bool augment = false)
    {
        using var net = Model(model);
        var opt = new Engine.Optim.AdamW(net.parameters(), lr: 1e-3);
        var source = new TimedSource(Loader(dataset, workers, augment), limit);
        // The same managed heap state before each run: the previous run's garbage is not collected inside this one.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        double loss;
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        double tc0 = ThreadCpu();
        long t0 = Stopwatch.GetTimestamp();
        if (variant.StartsWith("hand", StringComparison.Ordinal)) loss = Hand(net, opt, source, variant == "hand_acc");
        else
        {
            var metrics = variant == "trainer_nometrics" ? Array.Empty<Metric>() : [new Accuracy()];
            var options = new TrainerOptions { DryRun = variant != "trainer_nodry" };
            var trainer = new Trainer(net, opt, CrossEntropy, metrics, options);
            string? csv = null;
            List<Callback> callbacks = [];
            if (variant == "trainer_cb")
            {
                csv = Path.Combine(Path.GetTempPath(), $"trainer-bench-{Environment.ProcessId}.csv");
                var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
                callbacks.Add(new ProgressBar(console, interactive: false));
                callbacks.Add(new CsvLogger(csv));
            }
            var history = trainer.Fit(source, epochs: 1, callbacks: callbacks);
            loss = history["loss"][^1];
            if (csv is not null) File.Delete(csv);
        }
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        double threadCpu = ThreadCpu() - tc0;
        opt.Dispose();
        return (seconds, source.WaitSeconds, loss, cpu, threadCpu);
    }

    /// <summary>The hand-written loop: the per-batch work and nothing else, one host read per epoch.</summary>
    static double Hand(Sequential net, torch.optim.Optimizer opt, IBatchSource source, bool accuracy)
    {
        net.train();
        using var sum = zeros([], ScalarType.Float32);
        using var correct = zeros([], ScalarType.Int64);
        long n = 0;
        using (var it = source.GetEnumerator())
        {
            while (true)
            {
                using var scope = NewDisposeScope();
                if (!it.MoveNext()) break;
                var (x, y) = it.Current;
                opt.zero_grad();
                var output = net.call(x);
                var loss = nn.functional.cross_entropy(output, y);
                loss.backward();
                opt.step();
                sum.add_(loss.detach(), alpha: x.shape[0]);
                if (accuracy) correct.add_(output.detach().argmax(1).eq(y).sum());
                n += x.shape[0];
            }
        }
        if (accuracy) _ = correct.item<long>();
        return sum.item<float>() / n;
    }

    static double Median(IReadOnlyList<double> v)
    {
        var s = v.OrderBy(a => a).ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    static string S(double seconds) => seconds.ToString("0.000", CultureInfo.InvariantCulture);
    static string P(double fraction) => (fraction * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + "%";

    static void Overhead(IDataset dataset, string model, string[] variants, int rounds, long limit, int threads)
    {
        Console.WriteLine($"\n== (a) overhead, {model}, {threads} thread(s), load before {LoadAverage()}");
        // Warm-up: JIT every path (and the allocator) before timing.
        foreach (var v in variants) Epoch(model, v, dataset, Math.Min(limit > 0 ? limit : 20, 20));
        var times = variants.ToDictionary(v => v, _ => new List<double>());
        var cpus = variants.ToDictionary(v => v, _ => new List<double>());
        var tcpus = variants.ToDictionary(v => v, _ => new List<double>());
        var losses = variants.ToDictionary(v => v, _ => 0.0);
        for (int r = 0; r < rounds; r++)
        {
            // Alternate the order each round so no variant always follows another.
            var order = r % 2 == 0 ? variants : variants.Reverse().ToArray();
            foreach (var v in order)
            {
                var (s, _, loss, cpu, tcpu) = Epoch(model, v, dataset, limit);
                tcpus[v].Add(tcpu);
                times[v].Add(s);
                cpus[v].Add(cpu);
                losses[v] = loss;
            }
            Console.WriteLine($"  round {r + 1}: " + string.Join("  ", variants.Select(v => $"{v} {S(times[v][^1])} s (cpu {S(cpus[v][^1])}, thread {S(tcpus[v][^1])})")) + $"  (load {LoadAverage()})");
        }
        Console.WriteLine($"| model | threads | variant | min s | median s | max s | overhead (min) | overhead (median) | overhead (median of per-round ratios) | CPU s min | CPU overhead (min) | CPU overhead (median) | thread CPU s min | thread CPU overhead (min) | thread CPU overhead (median) | epoch loss |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        var hand = times.GetValueOrDefault("hand");
        foreach (var v in variants)
        {
            var t = times[v];
            string oMin = "", oMed = "", oPair = "", cMin = "", cMed = "", tMin = "", tMed = "";
            var tc = tcpus[v];
            var htc = tcpus.GetValueOrDefault("hand");
            var c = cpus[v];
            var hc = cpus.GetValueOrDefault("hand");
            if (hand is not null && v != "hand")
            {
                oMin = P((t.Min() - hand.Min()) / hand.Min());
                oMed = P((Median(t) - Median(hand)) / Median(hand));
                oPair = P(Median(t.Zip(hand, (a, b) => (a - b) / b).ToArray()));
                cMin = P((c.Min() - hc!.Min()) / hc!.Min());
                cMed = P((Median(c) - Median(hc!)) / Median(hc!));
                tMin = P((tc.Min() - htc!.Min()) / htc!.Min());
                tMed = P((Median(tc) - Median(htc!)) / Median(htc!));
            }
            Console.WriteLine($"| {model} | {threads} | {v} | {S(t.Min())} | {S(Median(t))} | {S(t.Max())} | {oMin} | {oMed} | {oPair} | {S(c.Min())} | {cMin} | {cMed} | {S(tc.Min())} | {tMin} | {tMed} | {losses[v].ToString("0.0000", CultureInfo.InvariantCulture)} |");
        }
        Console.WriteLine($"  load after {LoadAverage()}");
    }

    /// <summary>
    /// What the Trainer adds per batch, measured in a load-robust way (the epoch difference drowns in
    /// the machine's noise): (1) the hand step against the Trainer's step (TrainStep, then the loss
    /// Mean and Accuracy updates, as Fit's loop body) on the same batch, alternated call by call
    /// <c>steps</c> times each, each call timed; (2) the per-batch bookkeeping alone, best of 5 × 1000
    /// calls in process CPU time: Mean("loss").Update, Accuracy.Update, the same ops written by hand,
    /// and the hand loop's sum.add_; (3) the dry run (once per Fit).
    /// </summary>
    static void Micro(IDataset dataset, string model, int threads, int steps)
    {
        using var net = Model(model);
        var opt = new Engine.Optim.AdamW(net.parameters(), lr: 1e-3);
        var loader = Loader(dataset, 0, false);
        using var it = loader.GetEnumerator();
        it.MoveNext();
        using var x = it.Current.Input.clone();
        using var y = it.Current.Target.clone();
        long n = x.shape[0];
        using var output = net.call(x).detach();
        using var loss = nn.functional.cross_entropy(output, y).detach();
        double BestCpu(Action body, int calls = 1000)
        {
            for (int i = 0; i < 100; i++) body();
            double best = double.MaxValue;
            for (int r = 0; r < 5; r++)
            {
                var c0 = Process.GetCurrentProcess().TotalProcessorTime;
                for (int i = 0; i < calls; i++) body();
                best = Math.Min(best, (Process.GetCurrentProcess().TotalProcessorTime - c0).TotalSeconds / calls);
            }
            return best;
        }
        var mean = new Mean("loss");
        var acc = new Accuracy();
        using var sum = zeros([], ScalarType.Float32);
        using var sum64 = zeros([], ScalarType.Float64);
        using var hits = zeros([], ScalarType.Int64);
        double meanUpd = BestCpu(() => { using var s = NewDisposeScope(); mean.Update(loss, n); });
        double accUpd = BestCpu(() => { using var s = NewDisposeScope(); acc.Update(output, y); });
        double meanOps = BestCpu(() => { using var s = NewDisposeScope(); sum64.add_(loss.detach().reshape([]).to(ScalarType.Float64).mul(n)); });
        double accOps = BestCpu(() => { using var s = NewDisposeScope(); hits.add_(output.detach().argmax(1).eq(y).sum(ScalarType.Int64)); });
        double handBook = BestCpu(() => { using var s = NewDisposeScope(); sum.add_(loss.detach(), alpha: n); });
        mean.Dispose();
        acc.Dispose();

        var trainer = new Trainer(net, opt, CrossEntropy, [new Accuracy()]);
        for (int i = 0; i < 3; i++) trainer.DryRun(x, y);
        long d0 = Stopwatch.GetTimestamp();
        for (int i = 0; i < 10; i++) trainer.DryRun(x, y);
        double dry = Stopwatch.GetElapsedTime(d0).TotalSeconds / 10;

        net.train();
        var tMean = new Mean("loss");
        var tAcc = new Accuracy();
        void HandStep()
        {
            using var s = NewDisposeScope();
            opt.zero_grad();
            var l = nn.functional.cross_entropy(net.call(x), y);
            l.backward();
            opt.step();
            sum.add_(l.detach(), alpha: n);
        }
        void TrainerStep()
        {
            using var s = NewDisposeScope();
            var o = trainer.TrainStep(x, y);
            tMean.Update(o.Loss, n);
            tAcc.Update(o.Prediction, o.Target);
        }
        void HandStepBook()
        {
            using var s = NewDisposeScope();
            opt.zero_grad();
            var o = net.call(x);
            var l = nn.functional.cross_entropy(o, y);
            l.backward();
            opt.step();
            tMean.Update(l, n);
            tAcc.Update(o, y);
        }
        void TrainStepOnly()
        {
            using var s = NewDisposeScope();
            var o = trainer.TrainStep(x, y);
            sum.add_(o.Loss, alpha: n);
        }
        // hand: the hand loop's step; hand+metrics: the same with the Trainer's Mean and Accuracy
        // updates; TrainStep: Trainer.TrainStep with the hand loop's bookkeeping; trainer: TrainStep
        // with Mean and Accuracy (Fit's loop body).
        (string Name, Action Body)[] kinds = [("hand", HandStep), ("hand+metrics", HandStepBook), ("TrainStep", TrainStepOnly), ("trainer", TrainerStep)];
        foreach (var (_, body) in kinds) for (int i = 0; i < 10; i++) body();
        var wall = kinds.ToDictionary(k => k.Name, _ => new List<double>());
        var cpu = kinds.ToDictionary(k => k.Name, _ => new List<double>());
        for (int i = 0; i < steps; i++)
        {
            // Rotate the order so no kind always runs right after another.
            for (int k = 0; k < kinds.Length; k++)
            {
                var (name, body) = kinds[(i + k) % kinds.Length];
                double c0 = ThreadCpu();
                long t0 = Stopwatch.GetTimestamp();
                body();
                wall[name].Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                cpu[name].Add(ThreadCpu() - c0);
            }
        }
        _ = tAcc.Compute();
        tMean.Dispose();
        tAcc.Dispose();
        opt.Dispose();
        string U(double sec) => (sec * 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " µs";
        string Ms(double sec) => (sec * 1e3).ToString("0.000", CultureInfo.InvariantCulture) + " ms";
        Console.WriteLine($"\n== micro, {model}, {threads} thread(s), {steps} steps of each kind rotated, load {LoadAverage()}");
        Console.WriteLine("| kind | wall median | wall min | thread CPU median | thread CPU min | vs hand: wall median | CPU median | CPU min |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var (name, _) in kinds)
        {
            var (w, c) = (wall[name], cpu[name]);
            var (hw, hc) = (wall["hand"], cpu["hand"]);
            string rel(double a, double b) => name == "hand" ? "" : P((a - b) / b);
            Console.WriteLine($"| {name} | {Ms(Median(w))} | {Ms(w.Min())} | {Ms(Median(c))} | {Ms(c.Min())} | {rel(Median(w), Median(hw))} | {rel(Median(c), Median(hc))} | {rel(c.Min(), hc.Min())} |");
        }
        var hand = wall["hand"];
        double hMed = Median(hand);
        Console.WriteLine($"  bookkeeping per batch (CPU, best of 5x1000): Mean.Update {U(meanUpd)} (its ops by hand {U(meanOps)}), Accuracy.Update {U(accUpd)} (its ops by hand {U(accOps)}), hand loop sum.add_ {U(handBook)}; " +
                          $"Trainer minus hand {U(meanUpd + accUpd - handBook)} = {P((meanUpd + accUpd - handBook) / hand.Min())} of the fastest hand step");
        Console.WriteLine($"  dry run (once per Fit) {Ms(dry)} = {P(dry / (469 * hMed))} of a 469-batch epoch, {P(dry / (100 * hMed))} of a 100-batch one");
    }

    static void LoaderShare(IDataset dataset, string[] configs, int rounds, long limit, int threads)
    {
        Console.WriteLine($"\n== (b) loader wait, cnn Trainer epoch, {threads} thread(s), load before {LoadAverage()}");
        static (int Workers, bool Augment) Parse(string c) => (c.StartsWith("w1", StringComparison.Ordinal) ? 1 : 0, c.EndsWith("_aug", StringComparison.Ordinal));
        foreach (var c in configs) { var (w, a) = Parse(c); Epoch("cnn", "trainer", dataset, Math.Min(limit > 0 ? limit : 20, 20), w, a); }
        var epochs = configs.ToDictionary(c => c, _ => new List<double>());
        var waits = configs.ToDictionary(c => c, _ => new List<double>());
        for (int r = 0; r < rounds; r++)
        {
            var order = r % 2 == 0 ? configs : configs.Reverse().ToArray();
            foreach (var c in order)
            {
                var (w, a) = Parse(c);
                var (s, wait, _, _, _) = Epoch("cnn", "trainer", dataset, limit, w, a);
                epochs[c].Add(s);
                waits[c].Add(wait);
            }
            Console.WriteLine($"  round {r + 1}: " + string.Join("  ", configs.Select(c => $"{c} {S(epochs[c][^1])} s wait {S(waits[c][^1])} s")) + $"  (load {LoadAverage()})");
        }
        Console.WriteLine("| loader | threads | epoch min s | epoch median s | wait min s | wait median s | wait % of epoch (min..max over rounds) | wait % median |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var c in configs)
        {
            var share = waits[c].Zip(epochs[c], (w, e) => w / e).ToArray();
            Console.WriteLine($"| {c} | {threads} | {S(epochs[c].Min())} | {S(Median(epochs[c]))} | {S(waits[c].Min())} | {S(Median(waits[c]))} | " +
                              $"{(share.Min() * 100).ToString("0.00", CultureInfo.InvariantCulture)}..{(share.Max() * 100).ToString("0.00", CultureInfo.InvariantCulture)}% | {(Median(share) * 100).ToString("0.00", CultureInfo.InvariantCulture)}% |");
        }
        Console.WriteLine($"  load after {LoadAverage()}");
    }
}
