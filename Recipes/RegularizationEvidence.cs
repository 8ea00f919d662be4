using System.Diagnostics;
using System.Globalization;
using Engine.Data;
using Engine.Losses;
using Engine.Optim;
using Engine.Plots;
using Engine.Regularization;

namespace Engine.Recipes;

/// <summary>
/// Issue 10 item 6, evidence that regularization regularizes, on real data: the same
/// over-parameterized MLP (784-256-256-10, 270k parameters for 1,000 images) trained on the first
/// 1,000 MNIST training images and validated on the 10,000 test images, without regularization and
/// with each of L2 as decoupled weight decay (AdamW), dropout, augmentation, Mixup/CutMix, label
/// smoothing and early stopping. Every run uses Engine's AdamW (lr 1e-3, batch 50, 30 epochs, λ = 0
/// except for the L2 run, so the no-regularization run is plain Adam), the same seed for the initial
/// weights and the same shuffling stream, on one thread (deterministic). Train accuracy is measured
/// on the clean training images in eval mode (no dropout, no augmentation, no mixing). It prints a
/// markdown table (train accuracy, validation accuracy, gap = train − validation in points) and
/// writes PNGs of the validation accuracy and loss per epoch, one series per run, plus a grid of
/// what goes into the model (clean, augmented, mixed). About 100 s on the shared two-core machine.
/// <para>Tuning (<c>--tune</c>) never sees the test images: each setting of a small grid trains on
/// the same 1,000 images and is validated on 5,000 other MNIST training images (numbers
/// 1,000-5,999). <see cref="Tuned"/> holds, per technique, the setting with the best accuracy on
/// those 5,000 images — L2 λ ∈ {0.5, 2, 3, 5, 10} → 2; dropout p ∈ {0.3, 0.6, 0.8} → 0.6;
/// augmentation (pad 1, 5°) or (pad 2, 10°) → (pad 2, 10°); Mixup α ∈ {0.2, 1} × {30, 60} epochs
/// → 0.2 at 30 (more epochs did worse here); label smoothing ε ∈ {0.1, 0.2} → 0.2 — except early
/// stopping. Early stopping fits 800 of the 1,000 images and watches the cross-entropy on the other
/// 200 (never the validation set), restoring the weights of the best epoch. By accuracy the best
/// early stopping is none at all (the validation accuracy never falls in 30 epochs, the held-out
/// loss reaches its minimum at epoch 12 when the 800 images are already fit), so its min_delta
/// (Keras': an epoch counts as better only if the held-out loss drops by more than it) was chosen
/// by the gap on the tuning images: min_delta ∈ {0, 0.01, 0.05} × patience {3, 5} → 0.05 (stops
/// at epoch 7; patience made no difference). Its train accuracy is on the 800 images it fitted.</para>
/// Usage: <c>regularization [--tune [--only prefix,prefix]] [--epochs N] [--threads N] [--png path] [--data folder]</c>
/// (default PNG artifacts/regularization.png; the loss chart and the inputs grid go beside it as
/// <c>-loss.png</c> and <c>-inputs.png</c>). Exit code 0 when every regularized run has a smaller
/// gap than the run without regularization, 1 otherwise.
/// </summary>
public static class RegularizationEvidence
{
    const int TrainCount = 1000, FitCount = 800, TuneCount = 5000, Batch = 50, Hidden = 256, DefaultEpochs = 30;
    const double LearningRate = 1e-3;

    /// <summary>One run's regularization; all zero/null is the unregularized baseline.</summary>
    public sealed record Setup(string Name)
    {
        public double WeightDecay { get; init; }
        public double Dropout { get; init; }
        public AugmentationOptions? Augmentation { get; init; }
        public double MixupAlpha { get; init; }
        public double CutMixAlpha { get; init; }
        public double LabelSmoothing { get; init; }
        /// <summary>Early stopping with this patience (epochs) when above 0.</summary>
        public int Patience { get; init; }
        /// <summary>Early stopping counts an epoch as better only when the held-out loss drops by more than this (Keras' min_delta).</summary>
        public double MinDelta { get; init; }
        public int? Epochs { get; init; }
        public bool Mixing => MixupAlpha > 0 || CutMixAlpha > 0;
    }

    /// <summary>A run's outcome; the curves are the validation set's accuracy and loss after each epoch.</summary>
    public sealed record Result(string Name, int Epochs, double TrainAccuracy, double ValidationAccuracy,
        double[] ValidationAccuracies, double[] ValidationLosses)
    {
        public double Gap => TrainAccuracy - ValidationAccuracy;
    }

    /// <summary>The strengths chosen by <c>--tune</c> (best accuracy on the 200 held-out training images).</summary>
    public static IReadOnlyList<Setup> Tuned =>
    [
        new("none"),
        new("L2 (AdamW λ = 2)") { WeightDecay = 2.0 },
        new("dropout 0.6") { Dropout = 0.6 },
        new("augmentation (crop pad 2, rotate 10°, zoom 0.1)") { Augmentation = new AugmentationOptions { CropPadding = 2, RotationDegrees = 10, Zoom = 0.1 } },
        new("Mixup/CutMix (α 0.2 / 1.0)") { MixupAlpha = 0.2, CutMixAlpha = 1.0 },
        new("label smoothing 0.2") { LabelSmoothing = 0.2 },
        new("early stopping (patience 5, min_delta 0.05)") { Patience = 5, MinDelta = 0.05 },
    ];

    /// <summary>The grid <c>--tune</c> searches, per technique.</summary>
    static IEnumerable<Setup> Grid()
    {
        yield return new("none");
        foreach (var wd in new[] { 0.5, 2.0, 3.0, 5.0, 10.0 }) yield return new($"L2 λ={wd}") { WeightDecay = wd };
        foreach (var p in new[] { 0.3, 0.6, 0.8 }) yield return new($"dropout {p}") { Dropout = p };
        foreach (var (pad, deg) in new[] { (1, 5.0), (2, 10.0) })
            yield return new($"augmentation pad {pad} rot {deg}") { Augmentation = new AugmentationOptions { CropPadding = pad, RotationDegrees = deg, Zoom = 0.1 } };
        foreach (var p in new[] { 3, 5 })
            foreach (var d in new[] { 0.0, 0.01, 0.05 }) yield return new($"early stopping patience {p} min_delta {d}") { Patience = p, MinDelta = d };
        foreach (var e in new[] { 30, 60 })
            foreach (var a in new[] { 0.2, 1.0 }) yield return new($"Mixup/CutMix α={a} {e} epochs") { MixupAlpha = a, CutMixAlpha = 1.0, Epochs = e };
        foreach (var e in new[] { 0.1, 0.2 }) yield return new($"label smoothing {e}") { LabelSmoothing = e };
    }

    public static int Run(string[] args)
    {
        string? Option(string name)
        {
            int at = Array.IndexOf(args, name);
            return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
        }
        string folder = Option("--data") ?? Path.Combine(MnistMlp.FindRoot(), "data", "mnist");
        string png = Option("--png") ?? Path.Combine(MnistMlp.FindRoot(), "artifacts", "regularization.png");
        int epochs = int.TryParse(Option("--epochs"), out var e) ? e : DefaultEpochs;
        bool tune = args.Contains("--tune");
        // One thread by default: on a shared, loaded machine libtorch's second thread spins waiting
        // for the first and the run gets slower, not faster.
        set_num_threads(int.TryParse(Option("--threads"), out var threads) && threads > 0 ? threads : 1);

        using var train = Mnist.Load(folder, train: true);
        using var test = Mnist.Load(folder, train: false);
        var trainX = train.Images.narrow(0, 0, TrainCount);
        var trainY = train.Labels.narrow(0, 0, TrainCount);
        Console.WriteLine($"regularization: MLP 784-{Hidden}-{Hidden}-10 on {TrainCount} MNIST training images, {epochs} epochs, " +
                          $"AdamW lr {LearningRate}, batch {Batch}, {get_num_threads()} threads");
        var clock = Stopwatch.StartNew();
        if (tune)
        {
            // Tuning never sees the test images: it fits the same 1,000 images and validates on
            // 5,000 other MNIST training images (numbers 1,000-5,999).
            var holdX = train.Images.narrow(0, TrainCount, TuneCount);
            var holdY = train.Labels.narrow(0, TrainCount, TuneCount);
            Console.WriteLine($"| setting | epochs | train acc | tuning validation acc ({TuneCount}) | gap |");
            Console.WriteLine("|---|---|---|---|---|");
            var only = (Option("--only") ?? "").Split(',');
            foreach (var setup in Grid().Where(s => only.Any(o => s.Name.StartsWith(o, StringComparison.Ordinal))))
            {
                var r = Train(setup, trainX, trainY, holdX, holdY, epochs, curves: false);
                Console.WriteLine($"| {r.Name} | {r.Epochs} | {r.TrainAccuracy:P2} | {r.ValidationAccuracy:P2} | {r.Gap * 100:F2} pt |");
            }
            Console.WriteLine($"tuning took {clock.Elapsed.TotalSeconds:F0} s");
            return 0;
        }

        SaveInputs(Path.ChangeExtension(png, null) + "-inputs.png", trainX, trainY);

        var results = new List<Result>();
        foreach (var setup in Tuned)
        {
            results.Add(Train(setup, trainX, trainY, test.Images, test.Labels, epochs, curves: true));
            Console.WriteLine($"  {setup.Name}: done at {clock.Elapsed.TotalSeconds:F0} s");
        }
        Console.WriteLine();
        Console.WriteLine(Table(results));
        Console.WriteLine($"{results.Count} runs in {clock.Elapsed.TotalSeconds:F0} s");

        var chart = new LineChart("Validation accuracy per epoch (1,000 MNIST training images, 10,000 test images)",
            "epoch", "validation accuracy (%)");
        foreach (var r in results)
            chart.Add(r.Name, Enumerable.Range(1, r.ValidationAccuracies.Length).Select(i => (double)i).ToArray(),
                r.ValidationAccuracies.Select(a => a * 100).ToArray());
        chart.Save(png, 1000, 600);
        Console.WriteLine($"wrote {Path.GetFullPath(png)}");
        var lossChart = new LineChart("Validation loss per epoch (cross-entropy on the 10,000 test images)", "epoch", "validation loss", logY: true)
            { Legend = LegendCorner.UpperRight };
        foreach (var r in results) lossChart.Add(r.Name, r.ValidationLosses);
        var lossPng = Path.ChangeExtension(png, null) + "-loss.png";
        lossChart.Save(lossPng, 1000, 600);
        Console.WriteLine($"wrote {Path.GetFullPath(lossPng)}");

        var none = results[0];
        var wider = results.Skip(1).Where(r => r.Gap >= none.Gap).ToList();
        foreach (var r in wider) Console.WriteLine($"not narrower: {r.Name} gap {r.Gap * 100:F2} pt ≥ {none.Gap * 100:F2} pt");
        return wider.Count == 0 ? 0 : 1;
    }

    /// <summary>What goes into the model: the first 8 training images as they are, augmented, and
    /// mixed by Mixup/CutMix (captioned with the two largest target weights), one row each.</summary>
    static void SaveInputs(string path, Tensor trainX, Tensor trainY)
    {
        using var scope = NewDisposeScope();
        var x = trainX.narrow(0, 0, 8);
        var y = trainY.narrow(0, 0, 8);
        using var augmentation = new ImageAugmentation(Tuned.First(s => s.Augmentation is not null).Augmentation!, seed: 3);
        var mixingSetup = Tuned.First(s => s.Mixing);
        var mixed = new MixupCutMix(10, mixingSetup.MixupAlpha, mixingSetup.CutMixAlpha, generator: new Generator(4)).Apply(x, y);
        var captions = new List<string>();
        captions.AddRange(y.data<long>().Select(l => $"{l}"));
        captions.AddRange(y.data<long>().Select(l => $"{l} augmented"));
        var (weights, classes) = mixed.Target.topk(2, dim: 1);
        for (int i = 0; i < 8; i++)
            captions.Add(string.Create(CultureInfo.InvariantCulture,
                $"{classes[i, 0].item<long>()}:{weights[i, 0].item<float>():F2} {classes[i, 1].item<long>()}:{weights[i, 1].item<float>():F2}"));
        ImageGrid.Save(path, cat([x, augmentation.forward(x), mixed.Input]),
            new ImageGridOptions { Columns = 8, Range = (0, 1), Scale = 3, Captions = captions, CaptionSize = 11 });
        Console.WriteLine($"wrote {Path.GetFullPath(path)}");
    }

    /// <summary>The results as a markdown table: run, epochs, train accuracy, validation accuracy, gap.</summary>
    public static string Table(IEnumerable<Result> results)
    {
        var lines = new List<string>
        {
            "| run | epochs | train acc | validation acc | gap |",
            "|---|---:|---:|---:|---:|",
        };
        foreach (var r in results)
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Name} | {r.Epochs} | {r.TrainAccuracy * 100:F2} % | {r.ValidationAccuracy * 100:F2} % | {r.Gap * 100:F2} pt |"));
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>A fixed, seeded 800/200 split of the training subset (for tuning and early stopping).</summary>
    static (Tensor FitX, Tensor FitY, Tensor HoldX, Tensor HoldY) Split(Tensor x, Tensor y)
    {
        var order = randperm(x.shape[0], generator: new Generator(5));
        var fit = order.narrow(0, 0, FitCount);
        var hold = order.narrow(0, FitCount, x.shape[0] - FitCount);
        return (x.index_select(0, fit), y.index_select(0, fit), x.index_select(0, hold), y.index_select(0, hold));
    }

    static nn.Module<Tensor, Tensor> Model(double dropout)
    {
        var layers = new List<nn.Module<Tensor, Tensor>> { nn.Flatten(), nn.Linear(784, Hidden), nn.ReLU() };
        if (dropout > 0) layers.Add(new Dropout(dropout));
        layers.AddRange([nn.Linear(Hidden, Hidden), nn.ReLU()]);
        if (dropout > 0) layers.Add(new Dropout(dropout));
        layers.Add(nn.Linear(Hidden, 10));
        return nn.Sequential(layers.ToArray());
    }

    static (double Accuracy, double Loss) Evaluate(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        model.eval();
        var logits = model.forward(x);
        double accuracy = logits.argmax(1).eq(y).sum().item<long>() / (double)y.shape[0];
        double loss = Loss.CrossEntropy(logits, y).item<float>();
        model.train();
        return (accuracy, loss);
    }

    /// <summary>Trains one run from the same initial weights and shuffling stream; evaluates the
    /// validation set after each epoch when <paramref name="curves"/> (and always at the end).</summary>
    public static Result Train(Setup setup, Tensor trainX, Tensor trainY, Tensor valX, Tensor valY, int epochs, bool curves)
    {
        epochs = setup.Epochs ?? epochs;
        Tensor? watchX = null, watchY = null;
        if (setup.Patience > 0) (trainX, trainY, watchX, watchY) = Split(trainX, trainY);
        manual_seed(1);
        using var model = Model(setup.Dropout);
        using var optimizer = new AdamW(model.parameters(), LearningRate, weightDecay: setup.WeightDecay);
        using var augmentation = setup.Augmentation is null ? null : new ImageAugmentation(setup.Augmentation, seed: 3);
        var mixing = setup.Mixing ? new MixupCutMix(10, setup.MixupAlpha, setup.CutMixAlpha, generator: new Generator(4)) : null;
        var shuffle = new Generator(2);
        long n = trainX.shape[0];
        var accuracies = new List<double>();
        var losses = new List<double>();
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, epoch = 0;
        Dictionary<string, Tensor>? best = null;
        for (epoch = 1; epoch <= epochs; epoch++)
        {
            using (var order = randperm(n, generator: shuffle))
                for (long start = 0; start + Batch <= n; start += Batch)
                {
                    using var scope = NewDisposeScope();
                    var idx = order.narrow(0, start, Batch);
                    var x = trainX.index_select(0, idx);
                    var y = trainY.index_select(0, idx);
                    if (augmentation is not null) x = augmentation.forward(x);
                    Tensor loss;
                    if (mixing is not null)
                    {
                        var mixed = mixing.Apply(x, y);
                        loss = Loss.CrossEntropy(model.forward(mixed.Input), mixed.Target);
                    }
                    else loss = Loss.CrossEntropy(model.forward(x), y, labelSmoothing: setup.LabelSmoothing);
                    optimizer.zero_grad();
                    loss.backward();
                    optimizer.step();
                }
            if (curves)
            {
                var (accuracy, valLoss) = Evaluate(model, valX, valY);
                accuracies.Add(accuracy);
                losses.Add(valLoss);
            }
            if (setup.Patience > 0)
            {
                // Early stopping watches the held-out part of the training subset, never the validation set.
                var (_, watchLoss) = Evaluate(model, watchX!, watchY!);
                if (watchLoss < bestLoss - setup.MinDelta)
                {
                    bestLoss = watchLoss;
                    bestEpoch = epoch;
                    foreach (var t in best?.Values ?? Enumerable.Empty<Tensor>()) t.Dispose();
                    best = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
                }
                else if (epoch - bestEpoch >= setup.Patience) break;
            }
        }
        if (best is not null)
        {
            using (no_grad())
                foreach (var (key, value) in model.state_dict()) value.copy_(best[key]);
            foreach (var t in best.Values) t.Dispose();
        }
        var trainResult = Evaluate(model, trainX, trainY);
        var valResult = Evaluate(model, valX, valY);
        return new Result(setup.Name, setup.Patience > 0 ? bestEpoch : epochs, trainResult.Accuracy, valResult.Accuracy,
            accuracies.ToArray(), losses.ToArray());
    }
}
