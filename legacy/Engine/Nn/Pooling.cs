namespace Engine.Nn;

/// <summary>Argument and input checks the 2-d pooling layers share, so that a bad size fails
/// with the layer's name and the shapes rather than a kernel's message.</summary>
internal static class Pooling
{
    public static void CheckArguments(Module layer, long[] kernel, long[] stride, long[] padding, long[] dilation)
    {
        string name = layer.TypeName;
        for (int d = 0; d < 2; d++)
        {
            if (kernel[d] <= 0 || stride[d] <= 0 || dilation[d] <= 0)
                throw new ArgumentOutOfRangeException(nameof(kernel),
                    $"{name}: kernel_size {Repr.Tuple(kernel)}, stride {Repr.Tuple(stride)} and dilation {Repr.Tuple(dilation)} must be positive");
            if (padding[d] < 0 || padding[d] > kernel[d] / 2)
                throw new ArgumentOutOfRangeException(nameof(padding),
                    $"{name}: padding {Repr.Tuple(padding)} must be non-negative and at most half of kernel_size {Repr.Tuple(kernel)}");
        }
    }

    /// <summary>[N, C, H, W] or [C, H, W] and a positive output size.</summary>
    public static void CheckInput(Module layer, Tensor input, long[] kernel, long[] stride, long[] padding, long[] dilation, bool ceilMode)
    {
        var shape = input.Shape;
        if (shape.Length is not (3 or 4) || shape[^1] == 0 || shape[^2] == 0)
            throw new ArgumentException($"{layer}: expected input [N, C, H, W] or [C, H, W] with non-zero H and W, got {Repr.Shape(shape)}");
        for (int d = 0; d < 2; d++)
        {
            long size = shape[shape.Length - 2 + d];
            long span = size + 2 * padding[d] - dilation[d] * (kernel[d] - 1) - 1;
            long output = (ceilMode ? (span + stride[d] - 1) / stride[d] : span / stride[d]) + 1;
            if (span < 0 || output <= 0)
                throw new ArgumentException(
                    $"{layer}: input {Repr.Shape(shape)} is too small for the window: output size would be {Math.Max(output, 0)} in spatial dimension {d}");
        }
    }
}
