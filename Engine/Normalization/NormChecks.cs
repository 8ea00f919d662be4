namespace Engine.Normalization;

/// <summary>
/// Input checks shared by the normalization layers. They run before any native call: a shape that
/// libtorch rejects would only surface as an opaque native error (or, for a batch of one value per
/// channel, as NaN running variances), so each layer names itself, the shape it got and the one it
/// expected.
/// </summary>
static class NormChecks
{
    public static string Shape(Tensor t) => "(" + string.Join(", ", t.shape) + ")";

    public static string Shape(long[] shape) => "(" + string.Join(", ", shape) + ")";

    public static void NotNull(string layer, Tensor? input)
    {
        if (input is null) throw new ArgumentNullException(nameof(input), $"{layer}: input is null");
        if (input.IsInvalid) throw new ArgumentException($"{layer}: input tensor is disposed", nameof(input));
    }

    /// <summary>The input has one of <paramref name="allowed"/> dimension counts.</summary>
    public static void Dims(string layer, Tensor input, string expected, params long[] allowed)
    {
        if (Array.IndexOf(allowed, input.dim()) < 0)
            throw new ArgumentException($"{layer}: expected {expected}, got input of shape {Shape(input)} ({input.dim()}D)", nameof(input));
    }

    /// <summary>The input's channel dimension matches the layer's channel count.</summary>
    public static void Channels(string layer, Tensor input, int dim, long expected, string what = "num_features")
    {
        if (input.size(dim) != expected)
            throw new ArgumentException($"{layer}: input of shape {Shape(input)} has {input.size(dim)} channels at dim {dim}, expected {what} = {expected}", nameof(input));
    }

    /// <summary>A floating-point input (the statistics and their gradients need one).</summary>
    public static void Floating(string layer, Tensor input)
    {
        if (!input.is_floating_point())
            throw new ArgumentException($"{layer}: expected a floating-point input, got {input.dtype} of shape {Shape(input)}", nameof(input));
    }

    public static void Positive(string layer, string name, long value)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"{layer}: {name} must be positive");
    }

    public static void Eps(string layer, double eps)
    {
        if (!(eps >= 0) || double.IsInfinity(eps)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"{layer}: eps must be finite and non-negative");
    }

    /// <summary>Reduction dims 2..ndim-1 (the spatial dims of an (N, C, *) tensor).</summary>
    public static long[] Range(long from, long to)
    {
        var dims = new long[Math.Max(0, to - from)];
        for (var i = 0; i < dims.Length; i++) dims[i] = from + i;
        return dims;
    }

    /// <summary>Shape (1, C, 1, ..., 1) with <paramref name="ndim"/> dims, to broadcast per-channel vectors.</summary>
    public static long[] ChannelShape(long channels, long ndim)
    {
        var shape = new long[ndim];
        Array.Fill(shape, 1L);
        shape[1] = channels;
        return shape;
    }
}
