using System.Diagnostics;
using Engine.Data;
using Engine.Losses;
using Engine.Optim;
using Engine.Regularization;
using Engine.Training;
using Engine.Training.Callbacks;
using Engine.Training.Metrics;

namespace Engine.Recipes;

/// <summary>
/// The seed's tabular case on scikit-learn's toy data sets (<see cref="SklearnDatasets"/>): a
/// seeded 60 / 20 / 20 train / validation / test split (<see cref="Dataset.RandomSplit(IDataset, IReadOnlyList{double}, Generator)"/>),
/// features standardized by a <see cref="StandardScaler"/> fitted on the training split only, an
/// MLP F → 64 → 64 → outputs (Linear → ReLU → Dropout), AdamW, the <see cref="Trainer"/> with
/// EarlyStopping on val_loss (restoring the best weights). Classification (iris, wine,
/// breast-cancer, digits): cross-entropy, test accuracy. Regression (diabetes): MSE loss, test MAE
/// and RMSE (<see cref="RegressionErrors"/>).
/// Data: scripts/get-sklearn-data.sh. Usage: tabular [--data wine|iris|breast-cancer|digits|diabetes|all] [--seed S] [--epochs E] [--threads T].
/// </summary>
public static class Tabular
{
    static readonly string[] Names = ["iris", "wine", "breast-cancer", "digits", "diabetes"];

    sealed record Result(string Name, long Samples, long Features, string Metric, string Value, string Line);

    public static int Run(string[] args)
    {
        try { return Train(args); }
        catch (UsageException e)
        {
            // The message says which option is wrong.
            Console.Error.WriteLine($"tabular: {e.Message}");
            return 2;
        }
    }

    static int Train(string[] args)
    {
        string which = Args.String(args, "--data", "breast-cancer");
        long seed = Args.Int(args, "--seed", 0);
        int maxEpochs = Args.Int(args, "--epochs", 500);
        // One thread by default: batches of 32 × ≤ 64 features are too small to split, and on a
        // busy machine a second OpenMP thread spinning at every op made a run 10× slower.
        int threads = Args.Int(args, "--threads", 1);
        string folder = Args.String(args, "--folder", Path.Combine(MnistMlp.FindRoot(), "data", "sklearn"));
        if (maxEpochs < 1) throw new UsageException("--epochs must be at least 1");
        if (threads > 0) set_num_threads(threads);
        var names = which == "all" ? Names : [which];
        if (names.Any(n => !Names.Contains(n)))
        {
            Console.Error.WriteLine($"tabular: unknown data set '{which}'; available: {string.Join(", ", Names)}, all");
            return 2;
        }
        Console.WriteLine($"tabular: libtorch {Runtime.LibTorchVersion}, {get_num_threads()} threads, seed {seed}, at most {maxEpochs} epochs");
        var results = new List<Result>();
        try
        {
            foreach (var name in names)
            {
                var r = RunOne(name, folder, seed, maxEpochs);
                Console.WriteLine(r.Line);
                results.Add(r);
            }
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException)
        {
            Console.Error.WriteLine($"tabular: {e.Message}");
            return 1;
        }
        if (results.Count > 1)
        {
            Console.WriteLine();
            Console.WriteLine($"{"data set",-14} {"samples",7} {"features",8}  {"metric",-14} {"test",13}");
            foreach (var r in results)
                Console.WriteLine($"{r.Name,-14} {r.Samples,7} {r.Features,8}  {r.Metric,-14} {r.Value,13}");
        }
        return 0;
    }

    static TabularData Load(string name, string folder) => name switch
    {
        "iris" => SklearnDatasets.LoadIris(folder),
        "wine" => SklearnDatasets.LoadWine(folder),
        "breast-cancer" => SklearnDatasets.LoadBreastCancer(folder),
        "digits" => SklearnDatasets.LoadDigits(folder),
        "diabetes" => SklearnDatasets.LoadDiabetes(folder),
        _ => throw new ArgumentException($"tabular: unknown data set '{name}'"),
    };

    static Result RunOne(string name, string folder, long seed, int maxEpochs)
    {
        var clock = Stopwatch.StartNew();
        using var data = Load(name, folder);
        bool regression = data.TargetNames.Count == 0;
        long n = data.Count, features = data.Features.shape[1];
        // Regression targets [N] become [N, 1], the MLP's output shape, so the loss and
        // RegressionErrors compare prediction i with target i (no broadcasting).
        using var targets = regression ? data.Targets.unsqueeze(1) : data.Targets.alias();
        var all = new TensorDataset(data.Features, targets);
        var split = Dataset.RandomSplit(all, [0.6, 0.2, 0.2], new Generator((ulong)seed));
        var (trainSet, valSet, testSet) = (split[0], split[1], split[2]);

        // The scaler's mean and std come from the training split alone: fitting on all samples
        // would let the validation and test sets' statistics leak into the inputs the model trains
        // on, and the held-out scores would no longer measure data the model has never seen.
        using var trainIndices = arange(trainSet.Count, ScalarType.Int64);
        var (trainX, trainY) = trainSet.GetBatch(trainIndices);
        using var _x = trainX;
        using var _y = trainY;
        using var scaler = StandardScaler.Fit(trainX);

        var options = new DataLoaderOptions { Transform = scaler };
        var trainLoader = new DataLoader(trainSet, 32, shuffle: true, generator: new Generator((ulong)seed + 1), options: options);
        var valLoader = new DataLoader(valSet, 1024, shuffle: false, options: options);
        var testLoader = new DataLoader(testSet, 1024, shuffle: false, options: options);

        long outputs = regression ? 1 : data.TargetNames.Count;
        manual_seed(seed); // the weights' initialization
        using var model = regression ? new TargetScale(Mlp(features, outputs), trainY) : Mlp(features, outputs);
        using var optimizer = new AdamW(ParamGroupSpec.WeightDecaySplit(model, 1e-2), lr: 1e-3);
        Func<Tensor, Tensor, Tensor> loss = regression ? (p, y) => Loss.Mse(p, y) : (p, y) => Loss.CrossEntropy(p, y);
        Metric[] metrics = regression ? [new RegressionErrors()] : [new Accuracy()];
        var trainer = new Trainer(model, optimizer, loss, metrics, new TrainerOptions { Seed = seed });
        var early = new EarlyStopping("val_loss", patience: 30, restoreBestWeights: true);
        var history = trainer.Fit(trainLoader, valLoader, maxEpochs, [early]);
        var test = trainer.Evaluate(testLoader);
        double seconds = clock.Elapsed.TotalSeconds;

        string head = $"{name}: {n} samples, {features} features, split {trainSet.Count}/{valSet.Count}/{testSet.Count}, " +
                      $"{history.Epochs.Count} epochs (best {early.BestEpoch + 1}, val_loss {early.Best:G4})";
        return regression
            ? new Result(name, n, features, "MAE / RMSE", $"{test["mae"]:F2} / {test["rmse"]:F2}",
                $"{head}, test MAE {test["mae"]:F2}, RMSE {test["rmse"]:F2} ({seconds:F1} s)")
            : new Result(name, n, features, "accuracy", $"{test["accuracy"] * 100:F2}%",
                $"{head}, test accuracy {test["accuracy"] * 100:F2}% ({seconds:F1} s)");
    }

    static nn.Module<Tensor, Tensor> Mlp(long features, long outputs) => nn.Sequential(
        ("fc1", nn.Linear(features, 64)), ("relu1", nn.ReLU()), ("drop1", new Dropout(0.1)),
        ("fc2", nn.Linear(64, 64)), ("relu2", nn.ReLU()), ("drop2", new Dropout(0.1)),
        ("fc3", nn.Linear(64, outputs)));

    /// <summary>
    /// Regression output in the target's units: <c>net(x)·σ_y + μ_y</c> with μ_y, σ_y the training
    /// targets' mean and std (constants, not trained). The network then fits a standardized
    /// target: diabetes' targets lie around 150 ± 77, which a freshly initialized last layer
    /// (outputs near 0) would otherwise need thousands of Adam steps of size ≈ lr to reach.
    /// Loss and MAE / RMSE stay in the data's units.
    /// </summary>
    sealed class TargetScale : nn.Module<Tensor, Tensor>
    {
        readonly nn.Module<Tensor, Tensor> net;
        readonly double _mean, _std;

        public TargetScale(nn.Module<Tensor, Tensor> inner, Tensor trainTargets) : base(nameof(TargetScale))
        {
            net = inner;
            using var t = trainTargets.to(ScalarType.Float64);
            _mean = t.mean().item<double>();
            _std = t.std(unbiased: false).item<double>();
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => net.call(input).mul(_std).add(_mean);
    }
}
