using System.Diagnostics;
using System.Globalization;
using Engine.Averaging;
using Engine.Data;
using Engine.Losses;
using Engine.Optim;
using Engine.Schedules;
using Engine.Training;
using Engine.Training.Callbacks;

namespace Engine.Recipes;

/// <summary>
/// Model averaging on MNIST, one table: a 784-128-10 ReLU MLP trained on a fixed 10,000-image
/// training subset (the first 10,000) with the <see cref="Trainer"/> and Engine's SGD (momentum
/// 0.9, lr 0.05, batch 64) for the same number of epochs in every row, evaluated on the 10,000 test
/// images:
/// <list type="number">
/// <item>single model (seed S);</item>
/// <item>an <see cref="Ensemble"/> of M independently seeded members (seeds S … S+M−1, the first is
/// the single model), the mean of their softmax probabilities;</item>
/// <item>SWA: <see cref="StochasticWeightAveraging"/> through <see cref="AveragedWeights"/>
/// (epoch-end updates from epoch E/2), lr <c>SequentialLR([Constant(), SWALR(0.02, 1)], [E/2])</c>,
/// so epoch E/2 still trains at 0.05 (SWALR's α is 0 on its milestone step) and the later ones at
/// 0.02 (the recipe prints the lr per epoch), the average copied into the model when Fit ends;</item>
/// <item>EMA: <see cref="ExponentialMovingAverage"/> (decay 0.99 with TensorFlow's warmup) updated
/// after every step, copied in at the end;</item>
/// <item>knowledge distillation: a 784-32-10 student trained with <see cref="KnowledgeDistillation.Loss"/>
/// (T = 4, α = 0.9) against the ensemble, next to the same student (same seed) on hard labels.</item>
/// </list>
/// The teacher's logits are the log of the ensemble's mean probabilities (softmax of them is the
/// ensemble's distribution, so at temperature T the soft targets are that mixture sharpened or
/// softened). The subset is fixed and not augmented, so the teacher's output per image is a
/// constant: it is computed once, in eval mode under no_grad, and packed beside the label in the
/// target, [N, 11] float32 (10 teacher logits, then the label, exact in float32), which the
/// shuffling loader carries with each image; the loss closure splits it again. This equals a
/// per-batch teacher forward, at a 1/(epochs) of its cost.
/// Usage: ensembles [--seed S] [--members M] [--epochs E] [--threads T] [--data folder] [--out folder]
/// (with --out the table is also written to folder/ensembles.md).
/// </summary>
public static class Ensembles
{
    const int TrainCount = 10_000, Batch = 64, Hidden = 128, StudentHidden = 32;
    const double LearningRate = 0.05, Momentum = 0.9, SwaLr = 0.02, EmaDecay = 0.99, Temperature = 4.0, Alpha = 0.9;

    public static int Run(string[] args)
    {
        try { return Train(args); }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"ensembles: {e.Message}");
            return 2;
        }
    }

    static int Train(string[] args)
    {
        int seed = Args.Int(args, "--seed", 0);
        int members = Args.Int(args, "--members", 5);
        int epochs = Args.Int(args, "--epochs", 6);
        int threads = Args.Int(args, "--threads", 1);
        if (members < 2) throw new UsageException($"--members must be at least 2, got {members}");
        if (epochs < 2) throw new UsageException($"--epochs must be at least 2 (SWA averages the second half), got {epochs}");
        if (threads < 1) throw new UsageException($"--threads must be at least 1, got {threads}");
        string folder = Args.String(args, "--data", Path.Combine(MnistMlp.FindRoot(), "data", "mnist"));
        string? outFolder = Args.String(args, "--out", "") is { Length: > 0 } o ? o : null;
        // Small MLPs: one thread is as fast as two here, and the machine is shared.
        set_num_threads(threads);

        using var train = Mnist.Load(folder, train: true);
        using var test = Mnist.Load(folder, train: false);
        var x = train.Images.narrow(0, 0, TrainCount);
        var y = train.Labels.narrow(0, 0, TrainCount);
        Console.WriteLine($"ensembles: MLP 784-{Hidden}-10 on the first {TrainCount} MNIST training images, {epochs} epochs, " +
                          $"SGD lr {F(LearningRate)} momentum {F(Momentum)}, batch {Batch}, seed {seed}, {get_num_threads()} threads");
        var clock = Stopwatch.StartNew();
        var rows = new List<(string Method, long Parameters, double Accuracy)>();

        // 1-2. Independently seeded members; the first is the single model.
        var trained = new List<nn.Module<Tensor, Tensor>>();
        for (int m = 0; m < members; m++)
        {
            var model = Mlp(Hidden, seed + m);
            Fit(model, x, y, epochs, seed + m);
            trained.Add(model);
            Console.WriteLine($"  member {m} (seed {seed + m}): test accuracy {Accuracy(model, test):P2}");
        }
        rows.Add(("single model", Count(trained[0]), Accuracy(trained[0], test)));
        using var ensemble = new Ensemble(trained);
        rows.Add(($"ensemble of {members} (mean probability)", Count(ensemble), Accuracy(ensemble, test)));

        // 3. SWA: the usual lr for the first half, then SWALR to swa_lr; epoch-end averages from E/2.
        int swaStart = epochs / 2;
        using (var model = Mlp(Hidden, seed))
        using (var swa = new StochasticWeightAveraging(model))
        {
            var schedule = new SequentialLR([new Constant(), new SWALR(SwaLr, annealEpochs: 1)], [swaStart]);
            var history = Fit(model, x, y, epochs, seed, o => new Scheduler(o, schedule, StepEvery.Epoch),
                new AveragedWeights(swa, startEpoch: swaStart, everyStep: false));
            Console.WriteLine($"  SWA: lr per epoch {string.Join(", ", history["lr"].Select(F))}");
            rows.Add(($"SWA (epochs {swaStart}-{epochs - 1} averaged, {swa.Updates} snapshots, swa_lr {F(SwaLr)})", Count(model), Accuracy(model, test)));
        }

        // 4. EMA of every step's weights.
        using (var model = Mlp(Hidden, seed))
        using (var ema = new ExponentialMovingAverage(model, decay: EmaDecay))
        {
            Fit(model, x, y, epochs, seed, null, new AveragedWeights(ema, everyStep: true));
            rows.Add(($"EMA (decay {F(EmaDecay)}, every step)", Count(model), Accuracy(model, test)));
        }

        // 5. Distillation: teacher logits computed once, carried in the target beside the label.
        Tensor packed;
        ensemble.eval();
        using (no_grad())
        using (var scope = NewDisposeScope())
        {
            var parts = new List<Tensor>();
            for (long i = 0; i < TrainCount; i += 1000)
            {
                var p = ensemble.forward(x.narrow(0, i, Math.Min(1000, TrainCount - i)));
                parts.Add(p.clamp_min(1e-30).log()); // log p: softmax(log p) = p; the clamp keeps an underflowed 0 finite
            }
            packed = cat([cat(parts, 0), y.to(ScalarType.Float32).unsqueeze(1)], 1).MoveToOuterDisposeScope();
        }
        using (packed)
        {
            Func<Tensor, Tensor, Tensor> kd = (logits, target) =>
                KnowledgeDistillation.Loss(logits, target.narrow(1, 0, 10), target.select(1, 10).to(ScalarType.Int64), Temperature, Alpha);
            using var student = Mlp(StudentHidden, seed + 1000);
            Fit(student, x, packed, epochs, seed + 1000, null, loss: kd);
            rows.Add(($"student 784-{StudentHidden}-10 distilled from the ensemble (T {F(Temperature)}, α {F(Alpha)})", Count(student), Accuracy(student, test)));
        }
        using (var alone = Mlp(StudentHidden, seed + 1000))
        {
            Fit(alone, x, y, epochs, seed + 1000);
            rows.Add(($"student 784-{StudentHidden}-10 alone (hard labels)", Count(alone), Accuracy(alone, test)));
        }

        var table = new List<string> { "| method | parameters | test accuracy |", "|---|---|---|" };
        table.AddRange(rows.Select(r => $"| {r.Method} | {r.Parameters.ToString("N0", CultureInfo.InvariantCulture)} | {r.Accuracy:P2} |"));
        Console.WriteLine();
        foreach (var line in table) Console.WriteLine(line);
        Console.WriteLine($"\nensembles took {clock.Elapsed.TotalSeconds:F0} s");
        if (outFolder is not null)
        {
            Directory.CreateDirectory(outFolder);
            File.WriteAllLines(Path.Combine(outFolder, "ensembles.md"), table);
        }
        return 0;
    }

    static nn.Module<Tensor, Tensor> Mlp(int hidden, long seed)
    {
        manual_seed(seed); // the initial weights: independent members differ only here and in the batch order
        return nn.Sequential(("flatten", nn.Flatten()), ("fc1", nn.Linear(784, hidden)), ("relu", nn.ReLU()), ("fc2", nn.Linear(hidden, 10)));
    }

    static History Fit(nn.Module<Tensor, Tensor> model, Tensor x, Tensor target, int epochs, long seed,
        Func<torch.optim.Optimizer, LRScheduler>? scheduler = null, Callback? callback = null, Func<Tensor, Tensor, Tensor>? loss = null)
    {
        using var optimizer = new Sgd(model.parameters(), lr: LearningRate, momentum: Momentum);
        var trainer = new Trainer(model, optimizer, loss ?? ((z, t) => Loss.CrossEntropy(z, t)), options: new TrainerOptions
        {
            Seed = seed,
            Scheduler = scheduler?.Invoke(optimizer),
            CheckTargets = loss is null, // the distillation target is [N, 11], not class indices
        });
        var loader = new DataLoader(x, target, Batch, generator: new Generator((ulong)seed));
        return trainer.Fit(loader, epochs: epochs, callbacks: callback is null ? null : [callback]);
    }

    static double Accuracy(nn.Module<Tensor, Tensor> model, Mnist test)
    {
        model.eval();
        using var noGrad = no_grad();
        long correct = 0;
        foreach (var (xb, yb) in new DataLoader(test.Images, test.Labels, 1000, shuffle: false))
        {
            using var scope = NewDisposeScope();
            correct += model.forward(xb).argmax(1).eq(yb).sum().item<long>();
        }
        return (double)correct / test.Count;
    }

    static long Count(nn.Module model) => model.parameters().Sum(p => p.numel());

    static string F(double v) => v.ToString("G", CultureInfo.InvariantCulture);
}
