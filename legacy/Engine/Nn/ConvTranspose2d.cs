namespace Engine.Nn;

/// <summary>
/// Transposed 2-d convolution (nn.ConvTranspose2d; the gradient of Conv2d with respect to its
/// input, used to upsample). Weight [in, out/groups, kh, kw]. Output size per spatial dimension:
/// (in − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1; give an output size to
/// <see cref="Forward(Tensor, long[])"/> to choose among the sizes a strided Conv2d maps back from.
/// Default initialization as PyTorch's (see <see cref="ConvNd"/>; fan_in = out/groups · kh · kw).
/// Checked against nn.ConvTranspose2d (Python fixtures) and aten::conv_transpose2d, in ConvTranspose2dTests.
/// </summary>
public sealed class ConvTranspose2d : ConvNd
{
    public ConvTranspose2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long outputPadding = 0,
        long groups = 1, bool bias = true, long dilation = 1, Device? device = null, ScalarType? dtype = null)
        : base(inChannels, outChannels, [kernelSize, kernelSize], [stride, stride], [padding, padding], null, [dilation, dilation],
            true, [outputPadding, outputPadding], groups, bias, PaddingMode.Zeros, device, dtype)
    {
    }

    /// <summary>Sizes per spatial dimension as (height, width).</summary>
    public ConvTranspose2d(long inChannels, long outChannels, (long, long) kernelSize, (long, long)? stride = null, (long, long)? padding = null,
        (long, long)? outputPadding = null, long groups = 1, bool bias = true, (long, long)? dilation = null,
        Device? device = null, ScalarType? dtype = null)
        : base(inChannels, outChannels, Conv2d.Pair(kernelSize), Conv2d.Pair(stride ?? (1, 1)), Conv2d.Pair(padding ?? (0, 0)), null,
            Conv2d.Pair(dilation ?? (1, 1)), true, Conv2d.Pair(outputPadding ?? (0, 0)), groups, bias, PaddingMode.Zeros, device, dtype)
    {
    }

    public override Tensor Forward(Tensor input) => Forward(input, null);

    /// <summary>With <paramref name="outputSize"/> ([H, W], or the full [N, C, H, W] / [C, H, W]) the
    /// output padding is chosen to produce it, as PyTorch's forward(input, output_size).</summary>
    public Tensor Forward(Tensor input, long[]? outputSize)
    {
        int lead = CheckInput(input);
        var outputPadding = OutputPaddingFor(input.Shape, lead, outputSize);
        for (int d = 0; d < 2; d++)
        {
            long size = (input.Shape[lead + d] - 1) * Stride[d] - 2 * Padding[d] + Dilation[d] * (KernelSize[d] - 1) + outputPadding[d] + 1;
            if (size <= 0)
                throw new ArgumentException($"{this}: input {Repr.Shape(input.Shape)} gives a non-positive output size {size} in spatial dimension {d}");
        }
        return Functional.ConvTranspose2d(input, Weight, Bias, Stride, Padding, outputPadding, Groups, Dilation);
    }

    /// <summary>PyTorch's _output_padding: the configured one, or the one that yields outputSize.</summary>
    long[] OutputPaddingFor(long[] inputShape, int lead, long[]? outputSize)
    {
        if (outputSize is null) return OutputPadding;
        var size = outputSize;
        if (size.Length == lead + 2) size = size[lead..];
        if (size.Length != 2)
            throw new ArgumentException($"{this}: for {inputShape.Length}-d input, output_size must have 2 or {lead + 2} elements (got {Repr.Shape(outputSize)})");
        var result = new long[2];
        for (int d = 0; d < 2; d++)
        {
            long min = (inputShape[lead + d] - 1) * Stride[d] - 2 * Padding[d] + Dilation[d] * (KernelSize[d] - 1) + 1;
            long max = min + Stride[d] - 1;
            if (size[d] < min || size[d] > max)
                throw new ArgumentException(
                    $"{this}: requested an output size of {Repr.Shape(size)}, but valid sizes for input {Repr.Shape(inputShape)} range from [{min}] to [{max}] in spatial dimension {d}");
            result[d] = size[d] - min;
        }
        return result;
    }
}
