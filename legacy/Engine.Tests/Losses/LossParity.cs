namespace Engine.Tests.Losses;

/// <summary>
/// What every loss test does: evaluate ours and a reference on separate leaf copies of the same
/// inputs, backpropagate the same upstream gradient through both, and compare values and input
/// gradients. Errors are normwise: max |ours − reference| / max |reference| over the tensor
/// (non-finite entries must match exactly: NaN with NaN, +∞ with +∞).
/// </summary>
internal static class LossParity
{
    /// <summary>float64 against libtorch: both sides differ only in summation order and op fusion.</summary>
    public const double Float64Tolerance = 1e-12;
    /// <summary>float32 against libtorch: a few ulps of float32 (6e-8) accumulated over a reduction.</summary>
    public const double Float32Tolerance = 1e-6;

    public static double Tolerance(ScalarType dtype) => dtype == ScalarType.Float64 ? Float64Tolerance : Float32Tolerance;

    public static Tensor Randn(params long[] shape) => Torch.Randn(shape, ScalarType.Float64, Device.CPU);

    /// <summary>Uniform on [low, high), float64.</summary>
    public static Tensor Uniform(double low, double high, params long[] shape)
    {
        var t = Torch.Empty(shape, ScalarType.Float64, Device.CPU);
        using (Torch.NoGrad()) t.Uniform_(low, high);
        return t;
    }

    public static Tensor Classes(long classes, params long[] shape) => Torch.Randint(0, classes, shape, device: Device.CPU);

    /// <summary>A float64 tensor of these values, 1-d unless a shape is given.</summary>
    public static Tensor Doubles(double[] values, params long[] shape) =>
        Torch.FromSpan<double>(values, shape.Length == 0 && values.Length != 1 ? [values.Length] : shape, Device.CPU);

    /// <summary>
    /// Runs <paramref name="ours"/> and <paramref name="reference"/> on leaf copies of
    /// <paramref name="inputs"/> (floating ones converted to <paramref name="dtype"/>; those
    /// flagged in <paramref name="differentiable"/> require grad) and asserts that values and the
    /// gradients of the flagged inputs agree within <paramref name="tolerance"/> (default: by dtype).
    /// </summary>
    public static void AssertParity(string what, Func<Tensor[], Tensor> ours, Func<Tensor[], Tensor> reference,
        Tensor[] inputs, bool[] differentiable, ScalarType dtype = ScalarType.Float64, double? tolerance = null, bool compareGradients = true)
    {
        using var scope = DisposeScope.Begin();
        double tol = tolerance ?? Tolerance(dtype);
        Tensor[] Copies() => inputs.Select((x, i) =>
        {
            var c = x.IsFloatingPoint ? x.Detach().To(dtype, copy: true) : x.Clone();
            return differentiable[i] ? c.RequiresGrad_() : c;
        }).ToArray();
        var a = Copies();
        var b = Copies();
        var ya = ours(a);
        var yb = reference(b);
        Assert.That(ya.Shape, Is.EqualTo(yb.Shape), $"{what}: result shape");
        Assert.That(ya.DType, Is.EqualTo(yb.DType), $"{what}: result dtype");
        double valueError = Error(ya, yb);
        Assert.That(valueError, Is.LessThanOrEqualTo(tol), $"{what}: value error\n ours {ya}\n libtorch {yb}");

        double gradError = 0;
        if (compareGradients && differentiable.Any(d => d))
        {
            // The same upstream gradient for both, not all ones, so a per-element mistake shows.
            var upstream = yb.Dim == 0 ? Torch.OnesLike(yb) : (Uniform(0.5, 1.5, yb.Shape).To(yb.DType));
            ya.Backward(upstream);
            yb.Backward(upstream);
            for (int i = 0; i < inputs.Length; i++)
            {
                if (!differentiable[i]) continue;
                var ga = a[i].Grad ?? Torch.ZerosLike(a[i]);
                var gb = b[i].Grad ?? Torch.ZerosLike(b[i]);
                double e = Error(ga, gb);
                gradError = Math.Max(gradError, e);
                Assert.That(e, Is.LessThanOrEqualTo(tol), $"{what}: gradient of input {i}\n ours {ga}\n reference {gb}");
            }
        }
        TestContext.Out.WriteLine($"{what} [{dtype.TorchName()}]: value error {valueError:G3}, gradient error {gradError:G3}");
    }

    /// <summary>max |a − b| / max |b| over the finite entries; +∞ if the non-finite entries differ.</summary>
    public static double Error(Tensor actual, Tensor expected)
    {
        var x = ToDoubles(actual);
        var y = ToDoubles(expected);
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
        using var d = t.Detach().To(ScalarType.Float64);
        return d.ToArray<double>();
    }

    /// <summary>GradCheck (float64 central differences) of a loss of the differentiable inputs.</summary>
    public static void AssertGradCheck(string what, Func<Tensor[], Tensor> loss, params Tensor[] inputs)
    {
        var leaves = inputs.Select(x => x.Detach().To(ScalarType.Float64, copy: true).RequiresGrad_()).ToArray();
        var result = GradCheck.Check(loss, leaves);
        TestContext.Out.WriteLine($"{what}: GradCheck {result.Report}");
        Assert.That(result.Passed, Is.True, $"{what}: {result.Report}");
    }
}
