namespace Engine.Nn;

/// <summary>
/// 2-d convolution over [N, C_in, H, W] or [C_in, H, W] (nn.Conv2d):
/// out[n, j] = bias[j] + Σ_k W[j, k] ⋆ x[n, k], with stride, zero padding (or "same"/"valid", or
/// another <see cref="Nn.PaddingMode"/>), dilation and groups. Output size per spatial dimension:
/// ⌊(in + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1. Default initialization as
/// PyTorch's (see <see cref="ConvNd"/>).
/// Checked against nn.Conv2d (Python fixtures: init, outputs, gradients) and aten::conv2d, in Conv2dTests.
/// </summary>
public sealed class Conv2d : ConvNd
{
    public Conv2d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1,
        long groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Zeros, Device? device = null, ScalarType? dtype = null)
        : base(inChannels, outChannels, [kernelSize, kernelSize], [stride, stride], [padding, padding], null, [dilation, dilation],
            false, [0, 0], groups, bias, paddingMode, device, dtype)
    {
    }

    /// <summary>Sizes per spatial dimension as (height, width).</summary>
    public Conv2d(long inChannels, long outChannels, (long, long) kernelSize, (long, long)? stride = null, (long, long)? padding = null,
        (long, long)? dilation = null, long groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Zeros,
        Device? device = null, ScalarType? dtype = null)
        : base(inChannels, outChannels, Pair(kernelSize), Pair(stride ?? (1, 1)), Pair(padding ?? (0, 0)), null, Pair(dilation ?? (1, 1)),
            false, [0, 0], groups, bias, paddingMode, device, dtype)
    {
    }

    /// <summary>Padding by name: "same" (output as large as the input; stride must be 1) or "valid" (none).</summary>
    public Conv2d(long inChannels, long outChannels, long kernelSize, string padding, long stride = 1, long dilation = 1,
        long groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Zeros, Device? device = null, ScalarType? dtype = null)
        : base(inChannels, outChannels, [kernelSize, kernelSize], [stride, stride], null, padding, [dilation, dilation],
            false, [0, 0], groups, bias, paddingMode, device, dtype)
    {
    }

    /// <summary>Padding by name with sizes per spatial dimension.</summary>
    public Conv2d(long inChannels, long outChannels, (long, long) kernelSize, string padding, (long, long)? stride = null,
        (long, long)? dilation = null, long groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Zeros,
        Device? device = null, ScalarType? dtype = null)
        : base(inChannels, outChannels, Pair(kernelSize), Pair(stride ?? (1, 1)), null, padding, Pair(dilation ?? (1, 1)),
            false, [0, 0], groups, bias, paddingMode, device, dtype)
    {
    }

    internal static long[] Pair((long, long) v) => [v.Item1, v.Item2];

    public override Tensor Forward(Tensor input)
    {
        CheckInput(input);
        if (PaddingMode != PaddingMode.Zeros)
        {
            using var padded = PadInput(input);
            return Functional.Conv2d(padded, Weight, Bias, Stride, [0, 0], Dilation, Groups);
        }
        return PaddingString is null
            ? Functional.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups)
            : Functional.Conv2d(input, Weight, Bias, PaddingString, Stride, Dilation, Groups);
    }
}
