namespace Engine.Tests.Regularization;

/// <summary>Comparisons and confidence bounds shared by the regularization tests.</summary>
internal static class RegularizationAssert
{
    /// <summary>Bit-for-bit equality: same draws, same ops in the same order, so no rounding can differ.</summary>
    public static void Identical(Tensor ours, Tensor reference, string what)
    {
        Assert.That(ours.shape, Is.EqualTo(reference.shape), $"{what}: shape");
        Assert.That(ours.dtype, Is.EqualTo(reference.dtype), $"{what}: dtype");
        double diff = ours.numel() == 0 ? 0 : (ours - reference).abs().max().to(ScalarType.Float64).item<double>();
        Assert.That(ours.numel() == 0 || ours.eq(reference).all().item<bool>(), Is.True, $"{what}: not identical, max |diff| = {diff:G3}");
    }

    /// <summary>max |a − b| / max(max |b|, tiny), computed in float64.</summary>
    public static double RelativeError(Tensor ours, Tensor reference)
    {
        using var scope = NewDisposeScope();
        var a = ours.to(ScalarType.Float64);
        var b = reference.to(ScalarType.Float64);
        double scale = Math.Max(b.abs().max().item<double>(), 1e-300);
        return (a - b).abs().max().item<double>() / scale;
    }

    public static void Close(Tensor ours, Tensor reference, double tolerance, string what)
    {
        Assert.That(ours.shape, Is.EqualTo(reference.shape), $"{what}: shape");
        double err = RelativeError(ours, reference);
        TestContext.Out.WriteLine($"{what}: relative error {err:G3} (tolerance {tolerance:G3})");
        Assert.That(err, Is.LessThanOrEqualTo(tolerance), what);
    }

    /// <summary>
    /// Asserts a sample mean of n independent draws with standard deviation <paramref name="sd"/>
    /// is within z = 5 standard errors of <paramref name="expected"/> (two-sided false-failure
    /// probability 5.7e-7 under the normal approximation, n ≥ 10⁴ here).
    /// </summary>
    public static void MeanWithin(double observed, double expected, double sd, double n, string what)
    {
        const double z = 5;
        double bound = z * sd / Math.Sqrt(n);
        TestContext.Out.WriteLine($"{what}: observed {observed:G6}, expected {expected:G6}, |diff| {Math.Abs(observed - expected):G3} ≤ {bound:G3} (5 standard errors)");
        Assert.That(Math.Abs(observed - expected), Is.LessThanOrEqualTo(bound), what);
    }

    public static double Fraction(Tensor mask) => mask.to(ScalarType.Float64).mean().item<double>();
    public static double Mean(Tensor t) => t.to(ScalarType.Float64).mean().item<double>();
    public static double Variance(Tensor t) => t.to(ScalarType.Float64).var().item<double>();
}
