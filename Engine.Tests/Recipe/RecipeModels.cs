using Engine.Recipe;
using TorchSharp.Modules;

namespace Engine.Tests.Recipe;

/// <summary>Small models and data for the recipe's checks, with the bugs the checks must catch.</summary>
static class RecipeModels
{
    public static readonly Func<Tensor, Tensor, Tensor> CrossEntropy = (o, t) => nn.functional.cross_entropy(o, t);
    public static readonly Func<Tensor, Tensor, Tensor> Mse = (o, t) => nn.functional.mse_loss(o, t);

    /// <summary>A learnable 3-class problem: labels = argmax(x·W) for a fixed random W; 64 samples.</summary>
    public static (Tensor X, Tensor Y) Classification(int seed, int n = 64, int features = 4, int classes = 3)
    {
        var g = new Generator((ulong)seed);
        var x = randn(n, features, generator: g);
        var w = randn(features, classes, generator: g);
        return (x, x.mm(w).argmax(1));
    }

    public static Sequential Mlp(int seed, int features = 4, int hidden = 16, int classes = 3)
    {
        manual_seed(seed);
        return nn.Sequential(("fc1", nn.Linear(features, hidden)), ("relu", nn.ReLU()), ("fc2", nn.Linear(hidden, classes)));
    }

    /// <summary>Batches of 16 from (x, y).</summary>
    public static (Tensor, Tensor)[] Batches(Tensor x, Tensor y, int size = 16) =>
        Enumerable.Range(0, (int)(x.shape[0] / size)).Select(i => (x.narrow(0, i * size, size), y.narrow(0, i * size, size))).ToArray();

    public static byte[][] Weights(nn.Module model) =>
        model.state_dict().Values.Select(t => t.contiguous().cpu().bytes.ToArray()).ToArray();
}

/// <summary>Bug: the output is a learned constant per class; the input is never used.</summary>
sealed class IgnoresInput : nn.Module<Tensor, Tensor>
{
    readonly Parameter bias;
    public IgnoresInput(int classes) : base(nameof(IgnoresInput))
    {
        bias = nn.Parameter(zeros(classes));
        RegisterComponents();
    }
    public override Tensor forward(Tensor x) => bias.unsqueeze(0).expand(x.shape[0], -1);
}

/// <summary>Bug: reshapes [N, F] by way of a transpose, a view where a permute was meant: samples mix.</summary>
sealed class MixesBatch : nn.Module<Tensor, Tensor>
{
    readonly Linear fc1, fc2;
    public MixesBatch(int features, int classes) : base(nameof(MixesBatch))
    {
        fc1 = nn.Linear(features, 16);
        fc2 = nn.Linear(16, classes);
        RegisterComponents();
    }
    public override Tensor forward(Tensor x) => fc2.call(fc1.call(x).t().reshape(x.shape[0], 16).relu());
}
