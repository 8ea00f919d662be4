using Engine.Autograd;

namespace Engine.Tests.Losses;

/// <summary>
/// What every loss test does: evaluate ours and a reference on separate leaf copies of the same
/// inputs, backpropagate the same upstream gradient through both, and compare values and input
/// gradients. Errors are normwise: max |ours − reference| / max |reference| over the tensor
/// (non-finite entries must match exactly: NaN with NaN, +∞ with +∞).
/// </summary>
internal static class LossParity
{
    /// <summary>float64 against TorchSharp's built-in: both sides differ only in summation order
    /// and op fusion, a few ulps (2e-16) over reductions of at most a few hundred terms.</summary>
    public const double Float64Tolerance = 1e-12;
    /// <summary>float32 against TorchSharp's built-in: a few ulps of float32 (6e-8) accumulated
    /// over the same reductions.</summary>
    public const double Float32Tolerance = 1e-6;

    public static double Tolerance(ScalarType dtype) => dtype == ScalarType.Float64 ? Float64Tolerance : Float32Tolerance;

    public static Tensor Randn(params long[] shape) => randn(shape, ScalarType.Float64);

    /// <summary>Uniform on [low, high), float64.</summary>
    public static Tensor Uniform(double low, double high, params long[] shape) =>
        empty(shape, ScalarType.Float64).uniform_(low, high);

    public static Tensor Classes(long classes, params long[] shape) => randint(0, classes, shape, ScalarType.Int64);

    /// <summary>A float64 tensor of these values, 1-d unless a shape is given.</summary>
    public static Tensor Doubles(double[] values, params long[] shape) =>
        shape.Length == 0 && values.Length != 1 ? tensor(values, ScalarType.Float64) : tensor(values, shape, ScalarType.Float64);

    public static Tensor Longs(params long[] values) => tensor(values, ScalarType.Int64);

    /// <summary>
    /// Runs <paramref name="ours"/> and <paramref name="reference"/> on leaf copies of
    /// <paramref name="inputs"/> (floating ones converted to <paramref name="dtype"/>; those
    /// flagged in <paramref name="differentiable"/> require grad) and asserts that values and the
    /// gradients of the flagged inputs agree within <paramref name="tolerance"/> (default: by dtype).
    /// Every gradient being zero fails the comparison as vacuous unless <paramref name="gradientsMayAllBeZero"/>.
    /// Returns the value and gradient errors, for the log.
    /// </summary>
    public static (double Value, double Gradient) AssertParity(string what, Func<Tensor[], Tensor> ours, Func<Tensor[], Tensor> reference,
        Tensor[] inputs, bool[] differentiable, ScalarType dtype = ScalarType.Float64, double? tolerance = null, bool compareGradients = true,
        bool gradientsMayAllBeZero = false)
    {
        using var scope = NewDisposeScope();
        double tol = tolerance ?? Tolerance(dtype);
        Tensor[] Copies() => inputs.Select((x, i) =>
        {
            var c = x.is_floating_point() ? x.detach().to(dtype, copy: true) : x.clone();
            return differentiable[i] ? c.requires_grad_() : c;
        }).ToArray();
        var a = Copies();
        var b = Copies();
        var ya = ours(a);
        var yb = reference(b);
        Assert.That(ya.shape, Is.EqualTo(yb.shape), $"{what}: result shape");
        Assert.That(ya.dtype, Is.EqualTo(yb.dtype), $"{what}: result dtype");
        double valueError = Error(ya, yb);
        Assert.That(valueError, Is.LessThanOrEqualTo(tol), $"{what}: value error\n ours {ya.ToString(TorchSharp.TensorStringStyle.Julia)}\n TorchSharp {yb.ToString(TorchSharp.TensorStringStyle.Julia)}");

        double gradError = 0, gradScale = 0;
        if (compareGradients && differentiable.Any(d => d))
        {
            // The same upstream gradient for both, not all ones, so a per-element mistake shows.
            var upstream = yb.dim() == 0 ? ones_like(yb) : Uniform(0.5, 1.5, yb.shape).to(yb.dtype);
            ya.backward([upstream]);
            yb.backward([upstream]);
            for (int i = 0; i < inputs.Length; i++)
            {
                if (!differentiable[i]) continue;
                // Both sides must have produced a gradient, or the comparison would be vacuous.
                var ga = a[i].grad;
                var gb = b[i].grad;
                Assert.That(ga is not null && gb is not null, $"{what}: input {i} got no gradient (ours {ga is not null}, reference {gb is not null})");
                gradScale = Math.Max(gradScale, ToDoubles(gb!).Max(Math.Abs));
                double e = Error(ga!, gb!);
                gradError = Math.Max(gradError, e);
                Assert.That(e, Is.LessThanOrEqualTo(tol),
                    $"{what}: gradient of input {i}\n ours {ga!.ToString(TorchSharp.TensorStringStyle.Julia)}\n reference {gb!.ToString(TorchSharp.TensorStringStyle.Julia)}");
            }
        }
        if (compareGradients && differentiable.Any(d => d) && !gradientsMayAllBeZero)
            Assert.That(gradScale, Is.GreaterThan(0), $"{what}: every gradient is zero, so the comparison would be vacuous");
        ErrorLog.Record(what, dtype, valueError, gradError);
        return (valueError, gradError);
    }

    /// <summary>max |a − b| / max |b| over the finite entries; +∞ if the non-finite entries differ.</summary>
    public static double Error(Tensor actual, Tensor expected) => Error(ToDoubles(actual), ToDoubles(expected));

    public static double Error(double[] x, double[] y)
    {
        if (x.Length != y.Length) return double.PositiveInfinity;
        double maxDiff = 0, scale = 0;
        for (int i = 0; i < x.Length; i++)
        {
            if (!double.IsFinite(x[i]) || !double.IsFinite(y[i]))
            {
                bool same = (double.IsNaN(x[i]) && double.IsNaN(y[i])) || x[i] == y[i];
                if (!same) return double.PositiveInfinity;
                continue;
            }
            maxDiff = Math.Max(maxDiff, Math.Abs(x[i] - y[i]));
            scale = Math.Max(scale, Math.Abs(y[i]));
        }
        return scale > 0 ? maxDiff / scale : maxDiff;
    }

    public static double[] ToDoubles(Tensor t)
    {
        using var d = t.detach().to(ScalarType.Float64).contiguous().cpu();
        return d.data<double>().ToArray();
    }

    /// <summary>GradCheck (float64 central differences) of a loss of the differentiable inputs.</summary>
    public static void AssertGradCheck(string what, Func<Tensor[], Tensor> loss, params Tensor[] inputs)
    {
        using var scope = NewDisposeScope();
        var leaves = inputs.Select(x => x.detach().to(ScalarType.Float64, copy: true).requires_grad_()).ToArray();
        var result = GradCheck.Check(loss, leaves);
        TestContext.Out.WriteLine($"{what}: GradCheck {result.Report}");
        Assert.That(result.Passed, Is.True, $"{what}: {result.Report}");
    }
}

/// <summary>The worst value and gradient errors per loss and dtype over the run, written to
/// TestContext.Progress at the end (the numbers quoted in the port's report).</summary>
[SetUpFixture]
public sealed class ErrorLog
{
    static readonly Dictionary<(string, ScalarType), (double Value, double Gradient)> s_worst = new();

    public static void Record(string what, ScalarType dtype, double value, double gradient)
    {
        var key = (what.Split(' ')[0], dtype);
        lock (s_worst)
        {
            var (v, g) = s_worst.GetValueOrDefault(key);
            s_worst[key] = (Math.Max(v, value), Math.Max(g, gradient));
        }
    }

    [OneTimeTearDown]
    public void Report()
    {
        foreach (var ((loss, dtype), (v, g)) in s_worst.OrderBy(e => e.Key.Item1).ThenBy(e => e.Key.Item2))
            TestContext.Progress.WriteLine($"worst error {loss,-30} {dtype,-8} value {v:G3}  gradient {g:G3}");
    }
}
