using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class DropPathTests
{
    [Test, Combinatorial]
    public void DropPath_matches_a_float64_reference_of_stochastic_depth(
        [Values(DropPathMode.Row, DropPathMode.Batch)] DropPathMode mode,
        [Values(ScalarType.Float32, ScalarType.Float64)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        const double p = 0.4;
        var x = randn([16, 3, 4], dtype);
        manual_seed(40);
        var ours = new DropPath(p, mode).forward(x);
        // Same draw (bernoulli_(1 − p) on [N,1,1] or [1,1,1]), then y = x·b/(1 − p) in float64.
        manual_seed(40);
        var bits = empty(mode == DropPathMode.Row ? [16, 1, 1] : [1, 1, 1], dtype).bernoulli_(1 - p).to(ScalarType.Float64).data<double>().ToArray();
        var xs = x.to(ScalarType.Float64).data<double>().ToArray();
        var expected = xs.Select((v, k) => v * bits[mode == DropPathMode.Row ? k / 12 : 0] / (1 - p)).ToArray();
        // float32: one multiply by a rounded 1/(1 − p): relative 1.2e-7.
        Close(ours, tensor(expected, [16, 3, 4], ScalarType.Float64), dtype == ScalarType.Float64 ? 1e-15 : 2e-7, $"DropPath {mode} {dtype}");
    }

    [Test]
    public void Row_mode_drops_a_fraction_p_of_samples_and_preserves_the_expectation()
    {
        using var scope = NewDisposeScope();
        const double p = 0.25;
        const int n = 200_000;
        manual_seed(41);
        var y = DropPath.Apply(ones(n, 3), p);
        var droppedRows = y.eq(0).all(1);
        Assert.That(y.eq(0).any(1).eq(droppedRows).all().item<bool>(), Is.True, "a sample is dropped whole or kept whole");
        MeanWithin(Fraction(droppedRows), p, Math.Sqrt(p * (1 - p)), n, "dropped samples");
        MeanWithin(Mean(y.select(1, 0)), 1, Math.Sqrt(p / (1 - p)), n, "E[y] = x");
    }

    [Test]
    public void Batch_mode_drops_all_or_nothing()
    {
        using var scope = NewDisposeScope();
        manual_seed(42);
        int droppedBatches = 0;
        for (int i = 0; i < 2000; i++)
        {
            using var inner = NewDisposeScope();
            var y = DropPath.Apply(ones(8, 2), 0.5, DropPathMode.Batch);
            bool allZero = y.eq(0).all().item<bool>();
            Assert.That(allZero || y.eq(2).all().item<bool>(), Is.True);
            if (allZero) droppedBatches++;
        }
        MeanWithin(droppedBatches / 2000.0, 0.5, 0.5, 2000, "dropped batches");
    }

    [Test]
    public void Linear_rates_rise_with_depth_as_in_huang_et_al()
    {
        // p_ℓ = ℓ/L · p_L, ℓ = 1..L (the paper's linear decay rule with p_L = 0.5 for L = 54 blocks: 0.5/54 ... 0.5).
        var rates = DropPath.LinearRates(54, 0.5);
        Assert.That(rates.Length, Is.EqualTo(54));
        for (int l = 1; l <= 54; l++) Assert.That(rates[l - 1], Is.EqualTo(0.5 * l / 54).Within(1e-15));
        Assert.Throws<ArgumentOutOfRangeException>(() => DropPath.LinearRates(0, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => DropPath.LinearRates(4, 1.0));
        var module = new DropPath(0.5);
        module.eval();
        using var x = randn(4, 4);
        Identical(module.forward(x), x, "eval");
    }
}
