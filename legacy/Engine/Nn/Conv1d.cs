namespace Engine.Nn;

/// <summary>
/// 1-d convolution over [N, C_in, L] or [C_in, L] (nn.Conv1d): out[n, j] = bias[j] + Σ_k W[j, k] ⋆ x[n, k],
/// with stride, zero padding (or "same"/"valid", or another <see cref="Nn.PaddingMode"/>),
/// dilation and groups. Default initialization as PyTorch's (see <see cref="ConvNd"/>).
/// Checked against nn.Conv1d (Python fixtures: init, outputs, gradients) and aten::conv1d, in Conv1dTests.
/// </summary>
public sealed class Conv1d : ConvNd
{
    public Conv1d(long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, long dilation = 1,
        long groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Zeros, Device? device = null, ScalarType? dtype = null)
        : base(inChannels, outChannels, [kernelSize], [stride], [padding], null, [dilation], false, [0], groups, bias, paddingMode, device, dtype)
    {
    }

    /// <summary>Padding by name: "same" (output as long as the input; stride must be 1) or "valid" (none).</summary>
    public Conv1d(long inChannels, long outChannels, long kernelSize, string padding, long stride = 1, long dilation = 1,
        long groups = 1, bool bias = true, PaddingMode paddingMode = PaddingMode.Zeros, Device? device = null, ScalarType? dtype = null)
        : base(inChannels, outChannels, [kernelSize], [stride], null, padding, [dilation], false, [0], groups, bias, paddingMode, device, dtype)
    {
    }

    public override Tensor Forward(Tensor input)
    {
        CheckInput(input);
        if (PaddingMode != PaddingMode.Zeros)
        {
            using var padded = PadInput(input);
            return Functional.Conv1d(padded, Weight, Bias, Stride[0], 0, Dilation[0], Groups);
        }
        return PaddingString is null
            ? Functional.Conv1d(input, Weight, Bias, Stride[0], Padding[0], Dilation[0], Groups)
            : Functional.Conv1d(input, Weight, Bias, PaddingString, Stride[0], Dilation[0], Groups);
    }
}
