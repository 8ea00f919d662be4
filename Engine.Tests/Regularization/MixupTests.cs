using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class MixupTests
{
    [Test]
    public void Mixup_matches_a_float64_reference_of_the_paper()
    {
        using var scope = NewDisposeScope();
        manual_seed(100);
        var x = randn(6, 3, 4, 4);
        var y = randint(0, 5, [6], ScalarType.Int64);
        var mixed = new Mixup(0.4, 5, new Generator(7)).Apply(x, y);
        double l = mixed.Lambda;
        var perm = mixed.Permutation.data<long>().ToArray();
        Assert.That(perm.OrderBy(v => v), Is.EqualTo(Enumerable.Range(0, 6).Select(v => (long)v)), "a permutation");
        var xs = x.to(ScalarType.Float64).data<double>().ToArray();
        var ys = y.data<long>().ToArray();
        int per = 48;
        var expectedX = new double[xs.Length];
        var expectedY = new double[6 * 5];
        for (int i = 0; i < 6; i++)
        {
            for (int k = 0; k < per; k++) expectedX[i * per + k] = l * xs[i * per + k] + (1 - l) * xs[perm[i] * per + k];
            expectedY[i * 5 + ys[i]] += l;
            expectedY[i * 5 + ys[perm[i]]] += 1 - l;
        }
        // float32 arithmetic: two products and a sum, a few ulps (6e-8) of values of order 1–4.
        Close(mixed.Input, tensor(expectedX, [6, 3, 4, 4], ScalarType.Float64), 1e-6, "x̃ = λx + (1 − λ)x[perm]");
        Close(mixed.Target, tensor(expectedY, [6, 5], ScalarType.Float64), 1e-6, "ỹ = λy + (1 − λ)y[perm]");
        Assert.That(mixed.Target.sum([1L]).sub(1).abs().max().item<float>(), Is.LessThan(1e-6f), "targets stay distributions");
    }

    [Test]
    public void Mixup_lambda_has_the_beta_moments_and_is_reproducible()
    {
        using var scope = NewDisposeScope();
        const double alpha = 0.4;
        const int draws = 2_000;
        var mixup = new Mixup(alpha, 2, new Generator(8));
        var x = ones(2, 1);
        var y = tensor(new long[] { 0, 1 });
        var lambdas = Enumerable.Range(0, draws).Select(_ => { using var s = NewDisposeScope(); return mixup.Apply(x, y).Lambda; }).ToArray();
        double mean = lambdas.Average();
        double variance = lambdas.Select(v => (v - 0.5) * (v - 0.5)).Average();
        // Beta(α, α): mean 1/2, variance 1/(4(2α + 1)). λ ∈ [0, 1] so sd(λ) ≤ 1/2 and sd((λ − ½)²) ≤ 1/8.
        MeanWithin(mean, 0.5, 0.5, draws, "E[λ]");
        MeanWithin(variance, 1 / (4 * (2 * alpha + 1)), 0.125, draws, "Var[λ]");
        var again = new Mixup(alpha, 2, new Generator(8));
        Assert.That(again.Apply(x, y).Lambda, Is.EqualTo(lambdas[0]), "same seed, same λ");
    }

    [Test]
    public void Mixup_refuses_non_positive_alpha()
    {
        foreach (var alpha in new[] { 0.0, -1.0, double.NaN })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Mixup(alpha))!;
            Assert.That(e.Message, Does.Contain("Mixup").And.Contain("alpha"));
            Assert.Throws<ArgumentOutOfRangeException>(() => new CutMix(alpha));
            Assert.Throws<ArgumentOutOfRangeException>(() => new MixupCutMix(3, mixupAlpha: alpha));
        }
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => new Mixup(0.2, 3).Apply(ones(4, 2), tensor(new long[] { 0, 1, 2 })));
        Assert.Throws<ArgumentException>(() => new Mixup(0.2, 3).Apply(ones(2, 2), tensor(new long[] { 0, 5 })));
    }
}
