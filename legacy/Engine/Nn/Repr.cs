using System.Globalization;

namespace Engine.Nn;

/// <summary>Formats hyperparameters the way Python prints them, so a module's
/// <see cref="Module.ExtraRepr"/> reads like PyTorch's (1.0, (3, 3), (3,), True).</summary>
internal static class Repr
{
    public static string Float(double v)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
        if (v == Math.Floor(v) && Math.Abs(v) < 1e16) return v.ToString("F0", CultureInfo.InvariantCulture) + ".0";
        return v.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e");
    }

    public static string Tuple(IReadOnlyList<long> v) =>
        v.Count == 1 ? $"({v[0]},)" : "(" + string.Join(", ", v) + ")";

    public static string Bool(bool v) => v ? "True" : "False";

    public static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
