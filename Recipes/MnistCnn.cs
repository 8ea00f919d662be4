using System.Diagnostics;
using System.Globalization;
using Engine.Data;
using Engine.Distributed;
using Engine.Losses;
using Engine.Normalization;
using Engine.Optim;
using Engine.Regularization;
using Engine.Plots;
using Engine.Schedules;
using Engine.Training;
using Engine.Training.Callbacks;
using Engine.Training.Metrics;

namespace Engine.Recipes;

/// <summary>
/// A small CNN with batch normalization, dropout and on-device augmentation trained on MNIST with
/// AdamW and a per-batch warmup + cosine schedule; it ends by printing <c>test accuracy: NN.NN%</c>.
/// Runs on CUDA when libtorch sees a GPU, else on the CPU with all cores (ENGINE_DEVICE overrides).
/// <code>
/// x : N×1×28×28 → augment (train only: rotation ±10°, zoom ±10%, shift ±10%, per sample)
///   → [conv3×3(1→16) → BN → ReLU → maxpool 2]          28×28 → 14×14
///   → [conv3×3(16→32) → BN → ReLU → maxpool 2]         14×14 → 7×7
///   → [conv3×3(32→64) → BN → ReLU → maxpool 2]         7×7 → 3×3
///   → flatten (576) → dropout 0.25 → linear(576→128) → ReLU → dropout 0.25 → linear(128→10)
/// loss      = cross-entropy
/// optimizer = AdamW(lr 3e-3, β = (0.9, 0.999), λ = 5e-4 on the conv/linear weights only), batch 128, 6 epochs
/// schedule  = per batch: linear warmup 0 → lr over the first half epoch, then cosine lr → 0 at the last step
/// </code>
/// About 99k parameters. Each conv has no bias (the batch norm's β replaces it). The layer list is a VGG-style string
/// (<c>--layers 16,M,32,M,64,M</c>: numbers are conv widths, M a 2×2 max-pool) so other
/// widths can be tried without code. Engine's <see cref="Trainer"/> runs the loop, validating on
/// the 10,000 test images each epoch, and writes into artifacts/mnist-cnn/: the model
/// (model.safetensors, rewritten each epoch: the last epoch's weights, loadable by Python's safetensors),
/// log.csv (Keras' CSVLogger format), tensorboard/ (event files), loss.png and accuracy.png, and
/// while running a resume checkpoint (an interrupted run started again continues from its last
/// epoch). Data: scripts/get-mnist.sh. Usage:
/// Data-parallel when started by mpirun (<c>scripts/launch.sh 2 dotnet Recipes/bin/Release/net10.0/Recipes.dll mnist-cnn</c>):
/// each rank trains on its DistributedSampler shard with batch B / ranks, gradients are averaged by
/// DataParallel, BatchNorm normalizes each shard (<c>--sync-bn</c>: over the global batch), and rank 0
/// alone writes and prints.
/// <c>mnist-cnn [--epochs E] [--batch B] [--lr η] [--weight-decay λ] [--warmup S] [--seed S]
/// [--layers L] [--hidden H] [--dropout p] [--no-augment] [--sync-bn] [--precision fp32|bf16] [--diagnostics N] [--threads N] [--data folder] [--out folder]</c>.
/// </summary>
public static class MnistCnn
{
    /// <summary>The recipe's settings; every one can be changed from the command line.</summary>
    public sealed record Settings
    {
        public int Epochs { get; init; } = 6;
        public int BatchSize { get; init; } = 128;
        public double LearningRate { get; init; } = 3e-3;
        public double WeightDecay { get; init; } = 5e-4;
        /// <summary>Warmup steps (batches); 0: the first half epoch.</summary>
        public long WarmupSteps { get; init; }
        public ulong Seed { get; init; }
        public string Layers { get; init; } = "16,M,32,M,64,M";
        public int Hidden { get; init; } = 128;
        public double Dropout { get; init; } = 0.25;
        public bool Augment { get; init; } = true;
        /// <summary>"fp32" (default) or "bf16": bf16 compute with fp32 master weights, BatchNorm and loss in fp32.</summary>
        public string Precision { get; init; } = "fp32";
        /// <summary>Training diagnostics every this many steps into TensorBoard (0: off).</summary>
        public int DiagnosticsInterval { get; init; }
        /// <summary>Data-parallel only: SyncBatchNorm (statistics over the global batch) instead of per-shard BatchNorm.</summary>
        public bool SyncBatchNorm { get; init; }
        public AugmentationOptions Augmentation { get; init; } = new() { RotationDegrees = 10, Zoom = 0.1, Translation = 0.1 };
    }

    public static int Run(string[] args)
    {
        var total = Stopwatch.StartNew();
        var s = Parse(args, out var folder, out var threads, out var output);
        if (threads is int t) Ops.SetNumThreads(t, "mnist-cnn --threads");
        // Started by mpirun: one rank of a data-parallel job (a group of one otherwise).
        using var group = LaunchEnvironment.Current.WorldSize > 1 ? ProcessGroup.Init() : null;
        int ranks = group?.WorldSize ?? 1;
        if (s.BatchSize % ranks != 0) throw new ArgumentException($"mnist-cnn: --batch {s.BatchSize} must be a multiple of the {ranks} ranks (each takes batch / ranks)");
        bool main = group is not { IsMain: false };
        if (!main) Console.SetOut(TextWriter.Null); // rank 0 speaks for the job
        var device = Runtime.DefaultDevice;
        if (group is not null && device.type == DeviceType.CUDA) device = new Device(DeviceType.CUDA, group.LocalRank);
        if (group is not null) Console.WriteLine($"mnist-cnn: data-parallel on {ranks} ranks ({group.LibraryVersion.Split('\n')[0].Trim()}), batch {s.BatchSize / ranks} per rank");
        Console.WriteLine($"mnist-cnn: libtorch {Runtime.LibTorchVersion} on {device}, {get_num_threads()} threads; " +
                          $"layers {s.Layers}, hidden {s.Hidden}, dropout {s.Dropout}, augmentation {(s.Augment ? "on" : "off")}, " +
                          $"AdamW lr {s.LearningRate} wd {s.WeightDecay}, batch {s.BatchSize}, {s.Epochs} epochs, seed {s.Seed}, {s.Precision}");

        if (main) Fetch.IfMissing(folder, "get-mnist.sh");
        group?.Barrier(); // the other ranks read what rank 0 fetched
        using var train = Mnist.Load(folder, train: true, device);
        using var test = Mnist.Load(folder, train: false, device);
        manual_seed((long)s.Seed);
        using var model = Cnn(s.Layers, s.Hidden, s.Dropout);
        // Data-parallel: --sync-bn takes batch statistics over the whole global batch instead of
        // each rank's shard (PyTorch's default, like this recipe's, is per shard).
        if (group is not null && s.SyncBatchNorm) SyncBatchNorm.Convert(model, group);
        model.to(device);
        using var parallel = group is null ? null : new DataParallel(model, group);
        // Augmentation runs in the loader on the batch's device, per sample, only while training.
        using var augment = new ImageAugmentation(s.Augmentation, s.Seed);
        // Data-parallel: each rank's shard of every epoch's seeded order (the same seed on every rank).
        var loader = group is null
            ? new DataLoader(train.Images, train.Labels, s.BatchSize, generator: new Generator(s.Seed),
                options: new DataLoaderOptions { Augmentation = s.Augment ? BatchTransform.Input(augment) : null })
            : new DataLoader(train.Images, train.Labels, s.BatchSize / ranks, shuffle: false,
                options: new DataLoaderOptions { Augmentation = s.Augment ? BatchTransform.Input(augment) : null, Sampler = new DistributedSampler(train.Images.shape[0], group, seed: (long)s.Seed) });
        var testLoader = group is null
            ? new DataLoader(test.Images, test.Labels, 1000, shuffle: false)
            : new DataLoader(test.Images, test.Labels, 1000 / ranks, shuffle: false,
                options: new DataLoaderOptions { Sampler = new DistributedSampler(test.Images.shape[0], group, shuffle: false) });
        long totalSteps = loader.Batches * s.Epochs;
        long warmup = s.WarmupSteps > 0 ? s.WarmupSteps : Math.Max(1, loader.Batches / 2);
        // Weight decay on the conv and linear weights, none on biases and batch-norm γ, β.
        // bf16: the model computes in bf16, the optimizer steps its fp32 master weights.
        using var precision = s.Precision switch
        {
            "fp32" => null,
            "bf16" => Engine.Precision.MixedPrecision.Bf16(model),
            _ => throw new ArgumentException($"mnist-cnn: --precision is fp32 or bf16, got '{s.Precision}'"),
        };
        var parameters = precision?.MasterParameters ?? model.parameters();
        ParamGroupSpec[] groups =
        [
            new(parameters.Where(p => p.dim() > 1).ToList(), o => o.WeightDecay = s.WeightDecay),
            new(parameters.Where(p => p.dim() <= 1).ToList(), o => o.WeightDecay = 0),
        ];
        using var optimizer = new AdamW(groups, lr: s.LearningRate);
        // Stepped per batch by the Trainer: warmup then cosine to 0 at the last step.
        var scheduler = Schedule.WarmupCosine(warmup, totalSteps).Attach(optimizer, StepEvery.Batch);

        Directory.CreateDirectory(output);
        var trainer = new Trainer(model, optimizer, (p, y) => Loss.CrossEntropy(p, y), metrics: [new Accuracy()],
            options: new TrainerOptions
            {
                Scheduler = scheduler, Seed = (long)s.Seed,
                StepStrategy = precision is null ? null : new Engine.Precision.MixedPrecisionStep(precision),
                DataParallel = parallel,
            });
        var tensorBoard = new TensorBoard(Path.Combine(output, "tensorboard"));
        var callbacks = new List<Callback>
        {
            // Resumes an interrupted run from its last epoch; deleted when the run completes.
            new BackupAndRestore(Path.Combine(output, "resume.ckpt"), deleteOnEnd: true),
            new ModelCheckpoint(Path.Combine(output, "model.safetensors"), monitor: "val_accuracy", saveBestOnly: false), // every epoch: the test set selects nothing
            new CsvLogger(Path.Combine(output, "log.csv")),
            tensorBoard,
            new EpochLine(),
            new ProgressBar(),
        };
        if (s.DiagnosticsInterval > 0)
            callbacks.Add(new Diagnostics(new Engine.Recipe.DiagnosticsOptions { Interval = s.DiagnosticsInterval }, tensorBoard: tensorBoard));
        // The 10,000 test images are the per-epoch validation: nothing is tuned or selected on them.
        var history = trainer.Fit(loader, testLoader, s.Epochs, callbacks);

        double accuracy = history["val_accuracy"][^1];
        if (!main) return accuracy >= 0.99 ? 0 : 1;
        var epochs = Enumerable.Range(1, history.Epochs.Count).Select(e => (double)e).ToList();
        new LineChart("MNIST CNN: loss", "epoch", "cross-entropy", logY: true)
            .Add("train (augmented)", epochs, history["loss"]).Add("test", epochs, history["val_loss"])
            .Save(Path.Combine(output, "loss.png"));
        new LineChart("MNIST CNN: accuracy", "epoch", "accuracy (%)")
            .Add("train (augmented)", epochs, history["accuracy"].Select(a => a * 100).ToList())
            .Add("test", epochs, history["val_accuracy"].Select(a => a * 100).ToList())
            .Save(Path.Combine(output, "accuracy.png"));
        Console.WriteLine($"wrote {output}: model.safetensors, log.csv, tensorboard/, loss.png, accuracy.png");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy: {accuracy * 100:F2}%"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total time: {total.Elapsed.TotalSeconds:F1} s (this process, after the build)"));
        return accuracy >= 0.99 ? 0 : 1;
    }

    /// <summary>One line per epoch with the numbers that matter here, whether or not the output is a terminal.</summary>
    sealed class EpochLine : Callback
    {
        public override bool MainRankOnly => true;
        Stopwatch _clock = new();
        public override void OnEpochBegin(int epoch) => _clock = Stopwatch.StartNew();
        public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) =>
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch + 1}/{Trainer.Epochs}: train loss {logs["loss"]:F4}, test loss {logs["val_loss"]:F4}, test accuracy {logs["val_accuracy"] * 100:F2}%, {_clock.Elapsed.TotalSeconds:F1} s, lr {logs["lr"]:G3}"));
    }

    /// <summary>
    /// The CNN: for each entry of <paramref name="layers"/> a conv3×3 (padding 1, no bias) → BN →
    /// ReLU block of that width, or M, a 2×2 max-pool; then dropout → linear(→<paramref name="hidden"/>)
    /// → ReLU → dropout → linear(→10) (no hidden layer when <paramref name="hidden"/> is 0).
    /// </summary>
    public static TorchSharp.Modules.Sequential Cnn(string layers, int hidden, double dropout)
    {
        var modules = new List<(string, nn.Module<Tensor, Tensor>)>();
        long channels = 1, size = 28;
        int conv = 0, pool = 0;
        foreach (var entry in layers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (entry is "M" or "m")
            {
                modules.Add(($"pool{++pool}", nn.MaxPool2d(2)));
                size /= 2;
                continue;
            }
            if (!int.TryParse(entry, out int width) || width < 1)
                throw new ArgumentException($"mnist-cnn: layer '{entry}' in '{layers}' is neither a conv width (a positive integer) nor M (max-pool)", nameof(layers));
            conv++;
            modules.Add(($"conv{conv}", nn.Conv2d(channels, width, 3, padding: 1, bias: false)));
            modules.Add(($"bn{conv}", new BatchNorm2d(width) { UseFusedKernel = true }));
            modules.Add(($"relu{conv}", nn.ReLU()));
            channels = width;
        }
        if (size < 1) throw new ArgumentException($"mnist-cnn: '{layers}' pools a 28×28 image away", nameof(layers));
        modules.Add(("flatten", nn.Flatten()));
        modules.Add(("drop1", new Dropout(dropout)));
        long features = channels * size * size;
        if (hidden > 0)
        {
            modules.Add(("fc1", nn.Linear(features, hidden)));
            modules.Add(("relu_fc1", nn.ReLU()));
            modules.Add(("drop2", new Dropout(dropout)));
            features = hidden;
        }
        modules.Add(("fc_out", nn.Linear(features, 10)));
        return nn.Sequential(modules);
    }

    static Settings Parse(string[] args, out string folder, out int? threads, out string output)
    {
        var s = new Settings();
        folder = Path.Combine(MnistMlp.FindRoot(), "data", "mnist");
        output = Path.Combine(MnistMlp.FindRoot(), "artifacts", "mnist-cnn");
        threads = null;
        var inv = CultureInfo.InvariantCulture;
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"mnist-cnn: {args[i]} needs a value");
            s = args[i] switch
            {
                "--epochs" => s with { Epochs = int.Parse(Value(), inv) },
                "--batch" => s with { BatchSize = int.Parse(Value(), inv) },
                "--lr" => s with { LearningRate = double.Parse(Value(), inv) },
                "--weight-decay" => s with { WeightDecay = double.Parse(Value(), inv) },
                "--warmup" => s with { WarmupSteps = long.Parse(Value(), inv) },
                "--seed" => s with { Seed = ulong.Parse(Value(), inv) },
                "--layers" => s with { Layers = Value() },
                "--hidden" => s with { Hidden = int.Parse(Value(), inv) },
                "--dropout" => s with { Dropout = double.Parse(Value(), inv) },
                "--no-augment" => s with { Augment = false },
                "--sync-bn" => s with { SyncBatchNorm = true },
                "--precision" => s with { Precision = Value() },
                "--diagnostics" => s with { DiagnosticsInterval = int.Parse(Value(), inv) },
                "--threads" => Set(ref threads, int.Parse(Value(), inv), s),
                "--data" => Set(ref folder, Value(), s),
                "--out" => Set(ref output, Value(), s),
                _ => throw new ArgumentException($"mnist-cnn: unknown option '{args[i]}'"),
            };
        }
        return s;
    }

    static Settings Set<T>(ref T target, T value, Settings s)
    {
        target = value;
        return s;
    }
}
