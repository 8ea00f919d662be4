using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class AlphaDropoutTests
{
    [Test, Combinatorial]
    public void Alpha_dropout_matches_torchsharp_under_the_same_seed(
        [Values(0.2, 0.5)] double p,
        [Values(false, true)] bool featureWise,
        [Values(ScalarType.Float32, ScalarType.Float64)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var x = randn([5, 4, 3, 3], dtype);
        manual_seed(8);
        var ours = new AlphaDropout(p, featureWise).forward(x);
        manual_seed(8);
        var reference = featureWise
            ? nn.functional.feature_alpha_dropout(x, p, training: true)
            : nn.functional.alpha_dropout(x, p, training: true);
        Identical(ours, reference, $"AlphaDropout p={p} featureWise={featureWise} {dtype}");
    }

    [Test]
    public void Alpha_dropout_keeps_zero_mean_and_unit_variance()
    {
        using var scope = NewDisposeScope();
        const int n = 1_000_000;
        manual_seed(9);
        var y = AlphaDropout.Apply(randn([n], ScalarType.Float64), 0.3);
        // Klambauer et al.: the affine correction makes E[y] = 0, Var[y] = 1 for standard normal x.
        MeanWithin(Mean(y), 0, 1, n, "E[y]");
        // The sample variance of n draws has sd ≈ √((μ₄ − σ⁴)/n); μ₄ of this two-component mixture
        // is below 4, so √3 bounds √(μ₄ − 1).
        MeanWithin(Variance(y), 1, Math.Sqrt(3), n, "Var[y]");
        var module = new AlphaDropout(0.3);
        module.eval();
        var x = randn(4, 4);
        Identical(module.forward(x), x, "eval");
    }
}
