using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>
/// The seeds' three gradient-descent variants are one optimizer, Sgd, fed batches of different
/// sizes: full batch (the whole set), mini-batch (32) and stochastic (1). On a least-squares
/// problem each reaches the exact solution, computed here by libtorch's linalg.lstsq: full batch
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
        using var scope = NewDisposeScope();
        var gen = new Generator(3);
        // y = X w* + b* + noise, 256 samples, 4 features.
        var x = randn(new long[] { 256, 4 }, ScalarType.Float64, generator: gen);
        var wTrue = tensor(new[] { 1.5, -2.0, 0.5, 3.0 }).reshape(4, 1);
        var y = x.matmul(wTrue) + 0.7 + randn(new long[] { 256, 1 }, ScalarType.Float64, generator: gen) * 0.1;

        // The exact least-squares fit of [X, 1] to y.
        var design = cat([x, ones(256, 1, ScalarType.Float64)], 1);
        var solution = OptimizerHarness.Values(linalg.lstsq(design, y).Solution);

        var w = new Parameter(zeros(4, 1, ScalarType.Float64));
        var b = new Parameter(zeros(1, ScalarType.Float64));
        using var optimizer = new Sgd([w, b], lr: lr);
        int batches = (256 + batchSize - 1) / batchSize;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var order = batchSize < 256 ? randperm(256, generator: gen) : arange(256);
            for (int k = 0; k < batches; k++)
            {
                using var step = NewDisposeScope();
                var index = order.narrow(0, k * batchSize, Math.Min(batchSize, 256 - k * batchSize));
                optimizer.zero_grad();
                var residual = x.index_select(0, index).matmul(w) + b - y.index_select(0, index);
                (residual * residual).mean().backward();
                optimizer.step();
            }
        }
        var fitted = OptimizerHarness.Values(w).Append(b.ToDouble()).ToArray();
        for (int i = 0; i < fitted.Length; i++)
            Assert.That(fitted[i], Is.EqualTo(solution[i]).Within(tolerance), $"coefficient {i}");
    }
}
