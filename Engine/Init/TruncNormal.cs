using System.Runtime.InteropServices;

namespace Engine.Init;

public static partial class Init
{
    /// <summary>
    /// Truncated normal (torch.nn.init.trunc_normal_): N(mean, std²) restricted to [a, b], drawn by
    /// inverting the CDF as PyTorch does: with Φ(x) = (1 + erf(x/√2)) / 2, l = Φ((a − mean)/std) and
    /// u = Φ((b − mean)/std), draw v ~ U(2l − 1, 2u − 1), then x = mean + std · √2 · erfinv(v),
    /// clamped to [a, b] against rounding. a and b are absolute bounds, not multiples of std.
    /// Equals Python PyTorch's numbers after the same seed. TorchSharp 0.107's own
    /// <c>trunc_normal_</c> does not: it multiplies by the mean and adds the std, drops the √2 and
    /// ignores its generator (shown in TruncNormalTests).
    /// </summary>
    public static Tensor TruncNormal_(Tensor tensor, double mean = 0, double std = 1, double a = -2, double b = 2,
        Generator? generator = null)
    {
        if (!(std > 0) || double.IsInfinity(std))
            throw new ArgumentOutOfRangeException(nameof(std), std, "TruncNormal_: std must be positive and finite");
        if (!(a < b))
            throw new ArgumentException($"TruncNormal_: the lower cutoff a = {a} must be below the upper cutoff b = {b}");
        double l = NormCdf((a - mean) / std);
        double u = NormCdf((b - mean) / std);
        using (no_grad())
        {
            tensor.uniform_(2 * l - 1, 2 * u - 1, generator);
            tensor.erfinv_();
            tensor.mul_(std * Math.Sqrt(2.0));
            tensor.add_(mean);
            return tensor.clamp_(a, b);
        }
    }

    /// <summary>Φ(x) = (1 + erf(x/√2)) / 2 with C's erf, as Python's math.erf computes it, so the
    /// uniform bounds equal PyTorch's to the last bit.</summary>
    static double NormCdf(double x) => (1.0 + Erf(x / Math.Sqrt(2.0))) / 2.0;

    static double Erf(double x)
    {
        if (LibmErf is { } erf) return erf(x);
        using var t = torch.tensor(x, ScalarType.Float64);
        using var e = t.erf();
        return e.item<double>();
    }

    delegate double ErfFunction(double x);

    static readonly ErfFunction? LibmErf = LoadLibmErf();

    static ErfFunction? LoadLibmErf()
    {
        foreach (var name in new[] { "libm.so.6", "libm.dylib", "ucrtbase.dll" })
            if (NativeLibrary.TryLoad(name, out var lib) && NativeLibrary.TryGetExport(lib, "erf", out var f))
                return Marshal.GetDelegateForFunctionPointer<ErfFunction>(f);
        return null;
    }
}
