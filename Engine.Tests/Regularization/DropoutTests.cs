using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class DropoutTests
{
    [Test, Combinatorial]
    public void Dropout_matches_torchsharp_dropout_under_the_same_seed(
        [Values(0.1, 0.5, 0.9)] double p,
        [Values(ScalarType.Float32, ScalarType.Float64)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var x = randn([7, 33], dtype);
        var a = x.detach().clone().requires_grad_();
        var b = x.detach().clone().requires_grad_();
        manual_seed(11);
        var ours = new Dropout(p).forward(a);
        manual_seed(11);
        var reference = nn.functional.dropout(b, p, training: true);
        Identical(ours, reference, $"Dropout p={p} {dtype}");
        ours.sum().backward();
        reference.sum().backward();
        Identical(a.grad!, b.grad!, $"Dropout p={p} {dtype} gradient (mask/(1−p))");
    }

    [Test]
    public void Dropout_is_the_identity_in_eval_and_at_p_zero()
    {
        using var scope = NewDisposeScope();
        var x = randn(5, 6);
        var module = new Dropout(0.5);
        module.eval();
        Identical(module.forward(x), x, "eval");
        Identical(Dropout.Apply(x, 0.0), x, "p = 0");
    }

    [Test]
    public void Dropout_drops_a_fraction_p_and_preserves_the_expectation()
    {
        using var scope = NewDisposeScope();
        const double p = 0.3;
        const int n = 1_000_000;
        manual_seed(3);
        var y = Dropout.Apply(ones(n), p);
        // Each element is dropped independently: Bernoulli(p), sd √(p(1−p)).
        MeanWithin(Fraction(y.eq(0)), p, Math.Sqrt(p * (1 - p)), n, "drop rate");
        // y = m/(1−p): mean 1, sd √(p/(1−p)).
        MeanWithin(Mean(y), 1.0, Math.Sqrt(p / (1 - p)), n, "E[y] = x");
        var kept = y.masked_select(y.ne(0));
        Assert.That(kept.eq(1 / (1 - p)).all().item<bool>(), Is.True, "kept units are scaled by 1/(1 − p)");
    }

    [Test]
    public void Bad_drop_probability_is_refused_naming_the_call()
    {
        foreach (var p in new[] { -0.1, 1.0, 1.5, double.NaN })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(p))!;
            Assert.That(e.Message, Does.Contain("Dropout").And.Contain("[0, 1)").And.Contain($"p = {p}"));
            Assert.Throws<ArgumentOutOfRangeException>(() => Dropout.Apply(ones(3), p));
            Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout2d(p));
            Assert.Throws<ArgumentOutOfRangeException>(() => new AlphaDropout(p));
            Assert.Throws<ArgumentOutOfRangeException>(() => new GaussianDropout(p));
            Assert.Throws<ArgumentOutOfRangeException>(() => new DropBlock2d(p, 3));
            Assert.Throws<ArgumentOutOfRangeException>(() => new DropPath(p));
            Assert.Throws<ArgumentOutOfRangeException>(() => new LockedDropout(p));
            Assert.Throws<ArgumentOutOfRangeException>(() => new DropConnect(3, 2, p));
        }
        Assert.Throws<ArgumentException>(() => Dropout.Apply(ones([3], ScalarType.Int64), 0.5));
    }
}
