namespace Engine.Nn;

/// <summary>How a convolution pads its input (PyTorch's padding_mode): with zeros, by mirroring
/// the edge (reflect), by repeating it (replicate), or by wrapping around (circular).</summary>
public enum PaddingMode { Zeros, Reflect, Replicate, Circular }

/// <summary>
/// What Conv1d, Conv2d and ConvTranspose2d share (PyTorch's _ConvNd): hyperparameter checks,
/// the weight and bias, PyTorch's default initialization and the printed form.
/// Weight [out, in/groups, *kernel] ([in, out/groups, *kernel] when transposed). Initialization
/// as PyTorch's reset_parameters: kaiming_uniform_(weight, a = √5), i.e. U(-1/√fan_in, 1/√fan_in),
/// then bias ~ U(-1/√fan_in, 1/√fan_in), drawn in that order; fan_in = weight.size(1) · prod(kernel).
/// </summary>
public abstract class ConvNd : Module<Tensor, Tensor>
{
    public long InChannels { get; }
    public long OutChannels { get; }
    public long[] KernelSize { get; }
    public long[] Stride { get; }
    /// <summary>Zero-padding per spatial side; all zeros when <see cref="PaddingString"/> is set
    /// (the padding is then worked out from the kernel).</summary>
    public long[] Padding { get; }
    /// <summary>"same" or "valid" when padding was given by name, else null.</summary>
    public string? PaddingString { get; }
    public long[] Dilation { get; }
    public long[] OutputPadding { get; }
    public long Groups { get; }
    public PaddingMode PaddingMode { get; }
    public bool Transposed { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    /// <summary>(left, right) padding per spatial dimension, last dimension first, for F.pad when
    /// <see cref="PaddingMode"/> is not zeros (PyTorch's _reversed_padding_repeated_twice).</summary>
    protected long[] ReversedPaddingRepeatedTwice { get; }

    protected ConvNd(long inChannels, long outChannels, long[] kernelSize, long[] stride, long[]? padding, string? paddingString,
        long[] dilation, bool transposed, long[] outputPadding, long groups, bool bias, PaddingMode paddingMode,
        Device? device, ScalarType? dtype)
    {
        int n = kernelSize.Length;
        string name = GetType().Name;
        if (groups <= 0) throw new ArgumentOutOfRangeException(nameof(groups), $"{name}: groups must be a positive integer, got {groups}");
        if (inChannels <= 0 || outChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels), $"{name}({inChannels}, {outChannels}): channel counts must be positive");
        if (inChannels % groups != 0) throw new ArgumentException($"{name}: in_channels ({inChannels}) must be divisible by groups ({groups})");
        if (outChannels % groups != 0) throw new ArgumentException($"{name}: out_channels ({outChannels}) must be divisible by groups ({groups})");
        foreach (var (what, values, min) in new[] { ("kernel_size", kernelSize, 1L), ("stride", stride, 1L), ("dilation", dilation, 1L),
                     ("padding", padding ?? new long[n], 0L), ("output_padding", outputPadding, 0L) })
        {
            if (values.Length != n)
                throw new ArgumentException($"{name}: {what} needs {n} value(s), got {Repr.Tuple(values)}");
            if (values.Any(v => v < min))
                throw new ArgumentOutOfRangeException(what, $"{name}: {what} must be {(min == 1 ? "positive" : "non-negative")}, got {Repr.Tuple(values)}");
        }
        if (paddingString is not null)
        {
            if (paddingString is not ("same" or "valid"))
                throw new ArgumentException($"{name}: invalid padding string '{paddingString}', should be one of 'same', 'valid'");
            if (paddingString == "same" && stride.Any(s => s != 1))
                throw new ArgumentException($"{name}: padding='same' is not supported for strided convolutions (stride={Repr.Tuple(stride)})");
        }
        if (transposed)
        {
            if (paddingMode != PaddingMode.Zeros)
                throw new ArgumentException($"{name}: only padding_mode zeros is supported, got {paddingMode}");
            for (int i = 0; i < n; i++)
                if (outputPadding[i] >= stride[i] && outputPadding[i] >= dilation[i])
                    throw new ArgumentException(
                        $"{name}: output_padding {Repr.Tuple(outputPadding)} must be smaller than either stride {Repr.Tuple(stride)} or dilation {Repr.Tuple(dilation)}");
        }

        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        PaddingString = paddingString;
        Padding = padding ?? new long[n];
        Dilation = dilation;
        Transposed = transposed;
        OutputPadding = outputPadding;
        Groups = groups;
        PaddingMode = paddingMode;

        var reversed = new long[2 * n];
        for (int d = 0; d < n; d++)
        {
            int i = n - 1 - d;
            if (paddingString == "same")
            {
                long total = dilation[d] * (kernelSize[d] - 1);
                reversed[2 * i] = total / 2;
                reversed[2 * i + 1] = total - total / 2;
            }
            else
            {
                reversed[2 * i] = reversed[2 * i + 1] = Padding[d];
            }
        }
        ReversedPaddingRepeatedTwice = reversed;

        long[] shape = transposed
            ? [inChannels, outChannels / groups, .. kernelSize]
            : [outChannels, inChannels / groups, .. kernelSize];
        using (var w = Torch.Empty(shape, dtype, device)) Weight = new Parameter(w);
        if (bias)
        {
            using var b = Torch.Empty([outChannels], dtype, device);
            Bias = new Parameter(b, role: ParameterRole.Bias);
        }
        ResetParameters();
    }

    /// <summary>PyTorch's default initialization (see the class summary).</summary>
    public void ResetParameters()
    {
        Init.KaimingUniform_(Weight, a: Math.Sqrt(5));
        if (Bias is not null)
        {
            var (fanIn, _) = Init.CalculateFanInAndFanOut(Weight);
            if (fanIn != 0)
            {
                double bound = 1 / Math.Sqrt(fanIn);
                Init.Uniform_(Bias, -bound, bound);
            }
        }
    }

    /// <summary>Checks rank and channels, and that the (padded) input is at least as large as the
    /// dilated kernel; returns the number of leading non-spatial dimensions (2 batched, 1 not).</summary>
    protected int CheckInput(Tensor input)
    {
        int n = KernelSize.Length;
        var shape = input.Shape;
        string spatial = n == 1 ? "L" : n == 2 ? "H, W" : "D, H, W";
        if ((shape.Length != n + 1 && shape.Length != n + 2) || shape[^(n + 1)] != InChannels)
            throw new ArgumentException(
                $"{this}: expected input [N, {InChannels}, {spatial}] or [{InChannels}, {spatial}], got {Repr.Shape(shape)}");
        int lead = shape.Length - n;
        if (Transposed) return lead;
        for (int d = 0; d < n; d++)
        {
            long size = shape[lead + d];
            long padded = PaddingString is null ? size + 2 * Padding[d] : PaddingString == "same" ? size + Dilation[d] * (KernelSize[d] - 1) : size;
            long kernel = Dilation[d] * (KernelSize[d] - 1) + 1;
            if (padded < kernel)
                throw new ArgumentException(
                    $"{this}: input {Repr.Shape(shape)} is too small: spatial size {size} (padded {padded}) is smaller than the dilated kernel ({kernel}) in spatial dimension {d}");
            if (PaddingMode == PaddingMode.Reflect && Math.Max(ReversedPaddingRepeatedTwice[2 * (n - 1 - d)], ReversedPaddingRepeatedTwice[2 * (n - 1 - d) + 1]) >= size)
                throw new ArgumentException(
                    $"{this}: reflect padding needs every spatial size larger than its padding; input {Repr.Shape(shape)}");
            if (PaddingMode == PaddingMode.Circular && Math.Max(ReversedPaddingRepeatedTwice[2 * (n - 1 - d)], ReversedPaddingRepeatedTwice[2 * (n - 1 - d) + 1]) > size)
                throw new ArgumentException(
                    $"{this}: circular padding needs every spatial size at least its padding; input {Repr.Shape(shape)}");
        }
        return lead;
    }

    /// <summary>Pads for a non-zeros <see cref="PaddingMode"/> (the convolution then uses no padding).</summary>
    protected Tensor PadInput(Tensor input) => Functional.Pad(input, ReversedPaddingRepeatedTwice, PaddingMode switch
    {
        PaddingMode.Reflect => "reflect",
        PaddingMode.Replicate => "replicate",
        PaddingMode.Circular => "circular",
        _ => "constant",
    });

    public override string ExtraRepr()
    {
        var s = $"{InChannels}, {OutChannels}, kernel_size={Repr.Tuple(KernelSize)}, stride={Repr.Tuple(Stride)}";
        if (PaddingString is not null) s += $", padding={PaddingString}";
        else if (Padding.Any(p => p != 0)) s += $", padding={Repr.Tuple(Padding)}";
        if (Dilation.Any(d => d != 1)) s += $", dilation={Repr.Tuple(Dilation)}";
        if (OutputPadding.Any(p => p != 0)) s += $", output_padding={Repr.Tuple(OutputPadding)}";
        if (Groups != 1) s += $", groups={Groups}";
        if (Bias is null) s += ", bias=False";
        if (PaddingMode != PaddingMode.Zeros) s += $", padding_mode={PaddingMode.ToString().ToLowerInvariant()}";
        return s;
    }
}
