using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class GaussianNoiseTests
{
    const int N = 1_000_000;

    [Test]
    public void Gaussian_dropout_has_the_mean_and_variance_of_bernoulli_dropout()
    {
        using var scope = NewDisposeScope();
        const double p = 0.2, x = 2.0;
        manual_seed(12);
        var y = GaussianDropout.Apply(full([N], x, ScalarType.Float64), p);
        double variance = x * x * p / (1 - p);
        MeanWithin(Mean(y), x, Math.Sqrt(variance), N, "E[y] = x");
        // Normal: the sample variance has sd σ²√(2/n).
        MeanWithin(Variance(y), variance, variance * Math.Sqrt(2), N, "Var[y] = x²p/(1−p)");
    }

    [Test]
    public void Gaussian_noise_adds_zero_mean_noise_of_the_given_stddev()
    {
        using var scope = NewDisposeScope();
        const double sigma = 0.3;
        manual_seed(13);
        var x = randn([N], ScalarType.Float64);
        var noise = GaussianNoise.Apply(x, sigma) - x;
        MeanWithin(Mean(noise), 0, sigma, N, "E[noise]");
        MeanWithin(Variance(noise), sigma * sigma, sigma * sigma * Math.Sqrt(2), N, "Var[noise] = σ²");
    }

    [Test]
    public void Gaussian_noise_and_dropout_are_identity_in_eval()
    {
        using var scope = NewDisposeScope();
        var x = randn(3, 3);
        var a = new GaussianDropout(0.5);
        var b = new GaussianNoise(1.0);
        a.eval();
        b.eval();
        Identical(a.forward(x), x, "GaussianDropout eval");
        Identical(b.forward(x), x, "GaussianNoise eval");
        Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianNoise(-1));
    }
}
