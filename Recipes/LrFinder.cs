using System.Globalization;
using Engine.Data;
using Engine.Losses;
using Engine.Optim;
using Engine.Recipe;
using Engine.Training;
using Engine.Training.Metrics;

namespace Engine.Recipes;

/// <summary>
/// The learning-rate range test checked on real data (issue 12 item 2): on a 784-128-10 MLP and
/// the first 10,000 MNIST training digits, <see cref="LearningRateFinder"/> sweeps SGD+momentum's
/// lr from 1e-6 to 10 over 150 batches (exponentially, fastai's smoothing, stop on divergence),
/// restores the model and optimizer, and suggests rates (valley, steepest, minimum/10). The recipe
/// then trains the same initial weights for 2 epochs at each suggestion, at valley/100 (too low)
/// and at the loss minimum's lr (too high), and prints the test accuracy of each.
/// Writes artifacts/lr-finder/lr_curve.png. Usage: <c>lr-finder [--seed S] [--data folder] [--out folder]</c>.
/// </summary>
public static class LrFinder
{
    const int TrainCount = 10_000;

    public static int Run(string[] args)
    {
        long seed = Args.Int(args, "--seed", 0);
        string folder = Args.String(args, "--data", Path.Combine(MnistMlp.FindRoot(), "data", "mnist"));
        string output = Args.String(args, "--out", Path.Combine(MnistMlp.FindRoot(), "artifacts", "lr-finder"));
        Ops.SetNumThreads(1, "lr-finder"); // a small MLP: one thread is as fast and exactly reproducible
        Fetch.IfMissing(folder, "get-mnist.sh");
        using var train = Mnist.Load(folder, train: true);
        using var test = Mnist.Load(folder, train: false);
        var x = train.Images.narrow(0, 0, TrainCount).flatten(1);
        var y = train.Labels.narrow(0, 0, TrainCount);
        var testX = test.Images.flatten(1);
        Func<Tensor, Tensor, Tensor> loss = (p, t) => Loss.CrossEntropy(p, t);

        nn.Module<Tensor, Tensor> Model()
        {
            manual_seed(seed);
            return nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10));
        }

        var model = Model();
        var optimizer = new Sgd(model.parameters(), lr: 1e-3, momentum: 0.9);
        Directory.CreateDirectory(output);
        var curve = Path.Combine(output, "lr_curve.png");
        var result = LearningRateFinder.Run(model, optimizer, loss,
            new DataLoader(x, y, 64, generator: new Generator((ulong)seed)),
            new LrFinderOptions { StartLr = 1e-6, EndLr = 10, Steps = 150 }, RecipePlots.LrCurve(curve));
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"range test: {result.LearningRates.Count} steps{(result.Diverged ? ", stopped on divergence" : "")} at lr {result.LearningRates[^1]:G3}; suggestions: valley {result.Valley:G3}, steepest {result.Steepest:G3}, minimum/10 {result.MinimumOverTen:G3}; curve {curve}"));
        if (result.Valley is not double valley) { Console.Error.WriteLine("lr-finder: no suggestion (too few points)"); return 1; }

        Console.WriteLine();
        Console.WriteLine("| lr | from | test accuracy after 2 epochs |");
        Console.WriteLine("|---:|---|---:|");
        var accuracies = new List<double>();
        var rows = new List<(double Lr, string From)> { (valley / 100, "valley / 100 (too low)"), (valley, "valley (suggested)") };
        if (result.Steepest is double steepest) rows.Add((steepest, "steepest (suggested)"));
        if (result.MinimumOverTen is double minimum10) { rows.Add((minimum10, "minimum / 10 (suggested)")); rows.Add((minimum10 * 10, "minimum (too high)")); }
        foreach (var (lr, from) in rows)
        {
            var m = Model();
            var opt = new Sgd(m.parameters(), lr: lr, momentum: 0.9);
            var trainer = new Trainer(m, opt, loss, metrics: [new Accuracy()], options: new TrainerOptions { Seed = seed });
            trainer.Fit(new DataLoader(x, y, 64, generator: new Generator((ulong)seed)), epochs: 2);
            double accuracy = trainer.Evaluate(new DataLoader(testX, test.Labels, 1000, shuffle: false))["accuracy"];
            accuracies.Add(accuracy);
            Console.WriteLine(string.Create(inv, $"| {lr:G3} | {from} | {(double.IsFinite(accuracy) ? $"{accuracy * 100:F2}%" : "diverged")} |"));
        }
        double suggestedWorst = Enumerable.Range(0, rows.Count).Where(i => rows[i].From.Contains("suggested")).Min(i => accuracies[i]);
        double others = Enumerable.Range(0, rows.Count).Where(i => !rows[i].From.Contains("suggested")).Select(i => double.IsFinite(accuracies[i]) ? accuracies[i] : 0).Max();
        Console.WriteLine(suggestedWorst > others
            ? "every suggested lr trains better than the too-low and too-high ones"
            : "a suggested lr trained worse than a too-low or too-high one");
        return 0;
    }
}
