namespace Engine.Regularization;

/// <summary>Argument checks shared by the regularizers: each throws before any native call, naming the call and the value.</summary>
internal static class Checks
{
    /// <summary>A drop probability must lie in [0, 1): p = 1 would divide by 1 − p = 0 (and drop everything).</summary>
    public static double DropProbability(string call, double p, string name = "p")
    {
        if (!(p >= 0 && p < 1))
            throw new ArgumentOutOfRangeException(name, p, $"{call}: drop probability {name} = {p} must be in [0, 1)");
        return p;
    }

    /// <summary>A strength that must stay below 1 (a jitter δ giving factors in [1 − δ, 1 + δ] that stay positive).</summary>
    public static double Fraction(string call, double value, string name)
    {
        if (!(value >= 0 && value < 1))
            throw new ArgumentOutOfRangeException(name, value, $"{call}: {name} = {value} must be in [0, 1)");
        return value;
    }

    /// <summary>A probability of applying something, in [0, 1].</summary>
    public static double Probability(string call, double p, string name)
    {
        if (!(p >= 0 && p <= 1))
            throw new ArgumentOutOfRangeException(name, p, $"{call}: probability {name} = {p} must be in [0, 1]");
        return p;
    }

    public static double Positive(string call, double value, string name)
    {
        if (!(value > 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{call}: {name} = {value} must be a positive finite number");
        return value;
    }

    public static double NonNegative(string call, double value, string name)
    {
        if (!(value >= 0) || double.IsInfinity(value))
            throw new ArgumentOutOfRangeException(name, value, $"{call}: {name} = {value} must be a non-negative finite number");
        return value;
    }

    public static void Floating(string call, Tensor input, string name = "input")
    {
        if (!input.is_floating_point())
            throw new ArgumentException($"{call}: {name} has dtype {input.dtype}; a floating-point tensor is expected", name);
    }

    public static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";

    /// <summary>Channel-wise (spatial) dropout needs [N, C, spatial...] or unbatched [C, spatial...].</summary>
    public static void SpatialRank(string call, Tensor input, int spatialDims)
    {
        int batched = spatialDims + 2;
        if (input.dim() != batched && input.dim() != batched - 1)
            throw new ArgumentException(
                $"{call}: input {Shape(input)} has {input.dim()} dims; expected {batched} (N, C, {spatialDims} spatial) or {batched - 1} (C, {spatialDims} spatial, unbatched)", nameof(input));
    }

    /// <summary>Image operations need a batch N×C×H×W.</summary>
    public static void Nchw(string call, Tensor input, string name = "input")
    {
        if (input.dim() != 4)
            throw new ArgumentException($"{call}: {name} {Shape(input)} has {input.dim()} dims; expected a batch N×C×H×W (4 dims)", name);
        Floating(call, input, name);
    }
}
