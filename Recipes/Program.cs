using Engine.Recipes;

// Before any torch call: libtorch's OpenMP runtime reads its wait policy once, when it loads.
OpenMp.PreferPassiveWaits();

// Runnable recipes: `dotnet run --project Recipes -c Release -- <name> [args]`.
var recipes = new Dictionary<string, Func<string[], int>>
{
    ["spirals"] = Spirals.Run,
    ["mnist-mlp"] = MnistMlp.Run,
    ["mnist-cnn"] = MnistCnn.Run,
    ["schedule-chart"] = ScheduleChart.Run,
    ["regularization"] = RegularizationEvidence.Run,
    ["fashion-mnist"] = FashionMnistCnn.Run,
    ["tabular"] = Tabular.Run,
    ["transfer"] = TransferLearning.Run,
    ["optimizers"] = OptimizerComparison.Run,
    ["ensembles"] = Ensembles.Run,
    ["lr-finder"] = LrFinder.Run,
};

var name = args.Length > 0 ? args[0] : "spirals";
if (!recipes.TryGetValue(name, out var recipe))
{
    Console.Error.WriteLine($"unknown recipe '{name}'; available: {string.Join(", ", recipes.Keys)}");
    return 2;
}
return recipe(args.Skip(1).ToArray());
