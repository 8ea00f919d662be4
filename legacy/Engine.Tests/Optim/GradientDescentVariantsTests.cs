using Engine.Data;
using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>
/// The seeds' three gradient-descent variants are one optimizer, Sgd, fed batches of different
/// sizes: full batch (the whole set), mini-batch (32) and stochastic (1). On a least-squares
/// problem each reaches the exact solution, computed here by libtorch's linalg_lstsq: full batch
/// to 1e-6; with a constant learning rate the smaller batches stop within their gradient noise
/// (mini-batch 5e-3, stochastic 2e-2), which is the trade-off the seeds' table describes.
/// </summary>
public class GradientDescentVariantsTests
{
    [TestCase(256, 400, 0.5, 1e-6, TestName = "Full_batch_gradient_descent_reaches_the_least_squares_solution")]
    [TestCase(32, 200, 0.03, 5e-3, TestName = "Mini_batch_gradient_descent_reaches_the_least_squares_solution")]
    [TestCase(1, 30, 0.01, 2e-2, TestName = "Stochastic_gradient_descent_reaches_the_least_squares_solution")]
    public void Sgd_with_any_batch_size_solves_least_squares(int batchSize, int epochs, double lr, double tolerance)
    {
        using var scope = DisposeScope.Begin();
        using var gen = new Generator(3);
        // y = X w* + b* + noise, 256 samples, 4 features.
        var x = Torch.Randn([256, 4], ScalarType.Float64, Device.CPU, generator: gen);
        var wTrue = Torch.FromSpan<double>([1.5, -2.0, 0.5, 3.0], [4, 1], Device.CPU);
        var y = x.Matmul(wTrue) + 0.7 + Torch.Randn([256, 1], ScalarType.Float64, Device.CPU, generator: gen) * 0.1;

        // The exact least-squares fit of [X, 1] to y.
        var design = Torch.Cat([x, Torch.Ones([256, 1], ScalarType.Float64, Device.CPU)], 1);
        var solution = Op.Get("aten::linalg_lstsq").CallTensors(design, y)[0].Reshape(-1).ToArray<double>();

        var w = Torch.Zeros([4, 1], ScalarType.Float64, Device.CPU).RequiresGrad_().DetachFromDisposeScope();
        var b = Torch.Zeros([1], ScalarType.Float64, Device.CPU).RequiresGrad_().DetachFromDisposeScope();
        using var optimizer = new Sgd([w, b], lr: lr);
        var loader = new DataLoader([x, y], batchSize, shuffle: batchSize < 256, generator: gen);
        Assert.That(loader.Batches, Is.EqualTo((256 + batchSize - 1) / batchSize));
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            foreach (var batch in loader.Epoch())
            {
                using var step = DisposeScope.Begin();
                optimizer.ZeroGrad();
                var residual = batch[0].Matmul(w) + b - batch[1];
                (residual * residual).Mean().Backward();
                optimizer.Step();
            }
        }
        var fitted = w.Reshape(-1).ToArray<double>().Append(b.Item<double>()).ToArray();
        for (int i = 0; i < fitted.Length; i++)
            Assert.That(fitted[i], Is.EqualTo(solution[i]).Within(tolerance), $"coefficient {i}");
        w.Dispose();
        b.Dispose();
    }
}
