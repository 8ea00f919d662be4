using System.Diagnostics;
using Engine.Data;
using Engine.Losses;
using Engine.Optim;
using Engine.Plots;
using Engine.Schedules;
using Engine.Training;
using Engine.Training.Metrics;
using Parameter = TorchSharp.Modules.Parameter;

namespace Engine.Recipes;

/// <summary>
/// The seed's optimizer comparison, run for real with Engine's optimizers and the
/// <see cref="Trainer"/>. Every run of a part starts from the same initial weights
/// (<c>manual_seed(seed)</c> before the model is built) and sees the same batch order (a
/// <c>new Generator(seed)</c> per loader), so the curves differ only by the optimizer (or schedule).
/// <list type="bullet">
/// <item>regression: the seed's synthetic data, X ~ N(0, 1) [1000, 10], y = x₀ + x₁ + x₂ + N(0, 0.1²);
/// the first 800 rows train, the last 200 validate (Keras' validation_split); the seed's MLP
/// 10 → 64 → 32 → 1 (ReLU), MSE, batch 32, 30 epochs; SGD 0.01, SGD+momentum 0.9 at 0.01,
/// Nesterov 0.9 at 0.01, Adam 1e-3, AdamW 1e-3 (weight decay 0.01), RMSprop 1e-3 (the seed's
/// learning rates; Nesterov takes momentum's).</item>
/// <item>mnist: MLP 784 → 128 → 10 on the first 10,000 training digits, validated on the 10,000 test
/// digits, cross-entropy, batch 64, 3 epochs; SGD 0.1, momentum/Nesterov 0.9 at 0.01, Adam/AdamW/RMSprop 1e-3.</item>
/// <item>schedules: the regression with SGD+momentum 0.9 (base lr 0.01) under a constant lr, StepLR
/// (×0.1 every 10 epochs), ExponentialLR (×0.9 per epoch), CosineAnnealingLR (over the run, per
/// epoch), OneCycleLR (max lr 0.05, per batch, momentum cycled 0.85–0.95) and warmup + cosine
/// (2 epochs of linear warmup, then cosine to 0, per batch).</item>
/// </list>
/// Writes PNGs of validation loss per epoch (log y) and, for the schedules, lr per epoch (the lr
/// the optimizer held at each epoch's end, History's "lr") to the output folder.
/// Usage: optimizers [--part regression|mnist|schedules|all] [--out folder] [--seed S] [--epochs E]
/// [--threads T] [--data folder].
/// </summary>
public static class OptimizerComparison
{
    sealed record Result(string Name, History History, double Seconds);

    public static int Run(string[] args)
    {
        try { return Compare(args); }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"optimizers: {e.Message}");
            return 2;
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
        {
            Console.Error.WriteLine($"optimizers: {e.Message}");
            return 1;
        }
    }

    static int Compare(string[] args)
    {
        string part = Args.String(args, "--part", "all");
        string root = MnistMlp.FindRoot();
        string outDir = Args.String(args, "--out", Path.Combine(root, "artifacts", "optimizers"));
        long seed = Args.Int(args, "--seed", 42);
        int epochs = Args.Int(args, "--epochs", 0); // 0: each part's default
        // One thread by default: batches of 32–64 through a small MLP are too small to split, and
        // the machine is shared.
        int threads = Args.Int(args, "--threads", 1);
        string mnistDir = Args.String(args, "--data", Path.Combine(root, "data", "mnist"));
        string[] parts = part == "all" ? ["regression", "mnist", "schedules"] : [part];
        if (parts.Any(p => p is not ("regression" or "mnist" or "schedules")))
            throw new UsageException($"unknown --part '{part}'; available: regression, mnist, schedules, all");
        if (epochs < 0) throw new UsageException("--epochs must be at least 1");
        if (threads > 0) set_num_threads(threads);
        Directory.CreateDirectory(outDir);
        Console.WriteLine($"optimizers: libtorch {Runtime.LibTorchVersion}, {get_num_threads()} threads, seed {seed}, output {Path.GetFullPath(outDir)}");
        var total = Stopwatch.StartNew();
        foreach (var p in parts)
        {
            var clock = Stopwatch.StartNew();
            switch (p)
            {
                case "regression": Regression(outDir, seed, epochs > 0 ? epochs : 30); break;
                case "mnist": MnistPart(outDir, mnistDir, seed, epochs > 0 ? epochs : 3); break;
                case "schedules": Schedules(outDir, seed, epochs > 0 ? epochs : 30); break;
            }
            Console.WriteLine($"{p}: {clock.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine();
        }
        Console.WriteLine($"optimizers: {total.Elapsed.TotalSeconds:F1} s in all");
        return 0;
    }

    /// <summary>The six optimizers of the comparison, each built on the given parameters.</summary>
    static (string Name, Func<IEnumerable<Parameter>, torch.optim.Optimizer> Make)[] Optimizers(double sgdLr, double momentumLr, double adaptiveLr) =>
    [
        ($"SGD (lr {sgdLr})", p => new Sgd(p, lr: sgdLr)),
        ($"SGD+momentum 0.9 (lr {momentumLr})", p => new Sgd(p, lr: momentumLr, momentum: 0.9)),
        ($"Nesterov 0.9 (lr {momentumLr})", p => new Sgd(p, lr: momentumLr, momentum: 0.9, nesterov: true)),
        ($"Adam (lr {adaptiveLr})", p => new Adam(p, lr: adaptiveLr)),
        ($"AdamW (lr {adaptiveLr}, wd 0.01)", p => new AdamW(p, lr: adaptiveLr, weightDecay: 0.01)),
        ($"RMSprop (lr {adaptiveLr})", p => new RmsProp(p, lr: adaptiveLr)),
    ];

    /// <summary>The seed's data: X ~ N(0, 1) [1000, 10], y = sum of the first three features + N(0, 0.1²).</summary>
    static (Tensor X, Tensor Y) RegressionData(long seed)
    {
        var g = new Generator((ulong)seed);
        var x = randn([1000, 10], generator: g);
        var y = x[.., ..3].sum(1, keepdim: true) + 0.1 * randn([1000, 1], generator: g);
        return (x, y);
    }

    static nn.Module<Tensor, Tensor> RegressionModel(long seed)
    {
        manual_seed(seed); // the same initial weights for every optimizer
        return nn.Sequential(
            ("fc1", nn.Linear(10, 64)), ("relu1", nn.ReLU()),
            ("fc2", nn.Linear(64, 32)), ("relu2", nn.ReLU()),
            ("fc3", nn.Linear(32, 1)));
    }

    static Result FitRegression(string name, long seed, int epochs, Tensor x, Tensor y,
        Func<IEnumerable<Parameter>, torch.optim.Optimizer> makeOptimizer, Func<torch.optim.Optimizer, LRScheduler?>? makeScheduler = null)
    {
        using var model = RegressionModel(seed);
        using var optimizer = makeOptimizer(model.parameters());
        var scheduler = makeScheduler?.Invoke(optimizer);
        var trainer = new Trainer(model, optimizer, (p, t) => Loss.Mse(p, t), options: new TrainerOptions { Seed = seed, Scheduler = scheduler });
        var train = new DataLoader(x[..800], y[..800], batchSize: 32, generator: new Generator((ulong)seed));
        var validation = new DataLoader(x[800..], y[800..], batchSize: 200, shuffle: false);
        var clock = Stopwatch.StartNew();
        var history = trainer.Fit(train, validation, epochs);
        return new Result(name, history, clock.Elapsed.TotalSeconds);
    }

    static void Regression(string outDir, long seed, int epochs)
    {
        Console.WriteLine($"regression: 1000 × 10 synthetic (y = x0 + x1 + x2 + N(0, 0.1²)), 800 train / 200 validation, MLP 10-64-32-1, MSE, batch 32, {epochs} epochs");
        var (x, y) = RegressionData(seed);
        using var _x = x;
        using var _y = y;
        var runs = Optimizers(0.01, 0.01, 1e-3).Select(o => FitRegression(o.Name, seed, epochs, x, y, o.Make)).ToList();
        PrintTable(runs, accuracy: false);
        Plot(runs, "val_loss", $"Optimizer comparison: synthetic regression (seed {seed})", "validation MSE", Path.Combine(outDir, "regression_val_loss.png"));
    }

    static void MnistPart(string outDir, string folder, long seed, int epochs)
    {
        Console.WriteLine($"mnist: MLP 784-128-10, first 10,000 training digits, validated on the 10,000 test digits, cross-entropy, batch 64, {epochs} epochs");
        using var trainSet = Mnist.Load(folder, train: true);
        using var testSet = Mnist.Load(folder, train: false);
        using var trainX = trainSet.Images[..10000];
        using var trainY = trainSet.Labels[..10000];
        var runs = new List<Result>();
        foreach (var (name, make) in Optimizers(0.1, 0.01, 1e-3))
        {
            manual_seed(seed); // the same initial weights for every optimizer
            using var model = nn.Sequential(("flatten", nn.Flatten()), ("fc1", nn.Linear(784, 128)), ("relu", nn.ReLU()), ("fc2", nn.Linear(128, 10)));
            using var optimizer = make(model.parameters());
            using var accuracy = new Accuracy();
            var trainer = new Trainer(model, optimizer, (p, t) => Loss.CrossEntropy(p, t), [accuracy], new TrainerOptions { Seed = seed });
            var train = new DataLoader(trainX, trainY, batchSize: 64, generator: new Generator((ulong)seed));
            var validation = new DataLoader(testSet.Images, testSet.Labels, batchSize: 1000, shuffle: false);
            var clock = Stopwatch.StartNew();
            var history = trainer.Fit(train, validation, epochs);
            runs.Add(new Result(name, history, clock.Elapsed.TotalSeconds));
        }
        PrintTable(runs, accuracy: true);
        Plot(runs, "val_loss", $"Optimizer comparison: MNIST MLP, 10k training digits (seed {seed})", "validation cross-entropy", Path.Combine(outDir, "mnist_val_loss.png"));
    }

    static void Schedules(string outDir, long seed, int epochs)
    {
        const double lr = 0.01;
        const int batches = 25; // 800 / 32
        long steps = (long)epochs * batches;
        Console.WriteLine($"schedules: the regression, SGD+momentum 0.9 at base lr {lr}, batch 32, {epochs} epochs ({steps} steps)");
        var (x, y) = RegressionData(seed);
        using var _x = x;
        using var _y = y;
        Func<IEnumerable<Parameter>, torch.optim.Optimizer> sgd = p => new Sgd(p, lr: lr, momentum: 0.9);
        var schedules = new (string Name, Func<torch.optim.Optimizer, LRScheduler?> Make)[]
        {
            ("constant", _ => null),
            ("StepLR (x0.1 every 10 epochs)", o => new StepLR(10, 0.1).Attach(o, StepEvery.Epoch)),
            ("ExponentialLR (x0.9 per epoch)", o => new ExponentialLR(0.9).Attach(o, StepEvery.Epoch)),
            ($"CosineAnnealingLR (T_max {epochs} epochs)", o => new CosineAnnealingLR(epochs).Attach(o, StepEvery.Epoch)),
            ($"OneCycleLR (max 0.05, {steps} steps)", o => new OneCycleLR(0.05, steps).Attach(o, StepEvery.Batch)),
            ($"warmup {2 * batches} steps + cosine", o => Schedule.WarmupCosine(2 * batches, steps).Attach(o, StepEvery.Batch)),
        };
        var runs = schedules.Select(s => FitRegression(s.Name, seed, epochs, x, y, sgd, s.Make)).ToList();
        PrintTable(runs, accuracy: false, column: "schedule");
        Plot(runs, "val_loss", $"Schedule comparison: SGD+momentum on the synthetic regression (seed {seed})", "validation MSE", Path.Combine(outDir, "schedules_val_loss.png"));
        Plot(runs, "lr", "Learning rate at each epoch's end", "learning rate", Path.Combine(outDir, "schedules_lr.png"), logY: false);
    }

    static void PrintTable(IReadOnlyList<Result> runs, bool accuracy, string column = "optimizer")
    {
        int width = Math.Max(10, runs.Max(r => r.Name.Length));
        string head = $"{column.PadRight(width)} {"best val_loss",13} {"final val_loss",14}" + (accuracy ? $" {"val_accuracy",12}" : "") + $" {"seconds",8}";
        Console.WriteLine(head);
        Console.WriteLine(new string('-', head.Length));
        foreach (var r in runs)
        {
            var val = r.History["val_loss"];
            Console.WriteLine($"{r.Name.PadRight(width)} {val.Min(),13:G5} {val[^1],14:G5}"
                + (accuracy ? $" {r.History["val_accuracy"][^1],12:P2}" : "") + $" {r.Seconds,8:F1}");
        }
    }

    static void Plot(IReadOnlyList<Result> runs, string key, string title, string yLabel, string path, bool logY = true)
    {
        var chart = new LineChart(title, "epoch", yLabel, logY) { Legend = LegendCorner.UpperRight };
        // The legend names the series without the parenthesized settings (the table has them), so
        // it covers less of the plot.
        foreach (var r in runs) chart.Add(r.Name.Split(" (")[0], r.History[key]);
        chart.Save(path);
        Console.WriteLine($"wrote {path}");
    }
}
