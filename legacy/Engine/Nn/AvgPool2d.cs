namespace Engine.Nn;

/// <summary>
/// 2-d average pooling over [N, C, H, W] or [C, H, W] (nn.AvgPool2d): each output is the mean of a
/// kernel_size window moved by stride (default: the kernel size). With padding, zeros count toward
/// the mean unless countIncludePad is false; divisorOverride replaces the divisor.
/// Output size: ⌊(in + 2·padding − kernel) / stride⌋ + 1 (⌈⌉ with ceil mode).
/// Checked against nn.AvgPool2d (Python fixtures) and aten::avg_pool2d, in AvgPool2dTests.
/// </summary>
public sealed class AvgPool2d : Module<Tensor, Tensor>
{
    public long[] KernelSize { get; }
    public long[] Stride { get; }
    public long[] Padding { get; }
    public bool CeilMode { get; }
    public bool CountIncludePad { get; }
    public long? DivisorOverride { get; }
    readonly string _repr;

    public AvgPool2d(long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false, bool countIncludePad = true, long? divisorOverride = null)
        : this([kernelSize, kernelSize], stride is null ? null : [stride.Value, stride.Value], [padding, padding], ceilMode, countIncludePad,
            divisorOverride, $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding}")
    {
    }

    /// <summary>Sizes per spatial dimension as (height, width).</summary>
    public AvgPool2d((long, long) kernelSize, (long, long)? stride = null, (long, long)? padding = null, bool ceilMode = false,
        bool countIncludePad = true, long? divisorOverride = null)
        : this(Conv2d.Pair(kernelSize), stride is null ? null : Conv2d.Pair(stride.Value), Conv2d.Pair(padding ?? (0, 0)), ceilMode,
            countIncludePad, divisorOverride,
            $"kernel_size={Repr.Tuple(Conv2d.Pair(kernelSize))}, stride={Repr.Tuple(Conv2d.Pair(stride ?? kernelSize))}, " +
            $"padding={(padding is null ? "0" : Repr.Tuple(Conv2d.Pair(padding.Value)))}")
    {
    }

    AvgPool2d(long[] kernel, long[]? stride, long[] padding, bool ceilMode, bool countIncludePad, long? divisorOverride, string repr)
    {
        KernelSize = kernel;
        Stride = stride ?? kernel;
        Padding = padding;
        CeilMode = ceilMode;
        CountIncludePad = countIncludePad;
        DivisorOverride = divisorOverride;
        _repr = repr;
        Pooling.CheckArguments(this, kernel, Stride, padding, [1, 1]);
        if (divisorOverride is <= 0)
            throw new ArgumentOutOfRangeException(nameof(divisorOverride), $"AvgPool2d: divisor_override must be positive, got {divisorOverride}");
    }

    public override Tensor Forward(Tensor input)
    {
        Pooling.CheckInput(this, input, KernelSize, Stride, Padding, [1, 1], CeilMode);
        return Functional.AvgPool2d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad, DivisorOverride);
    }

    /// <summary>The sizes print as given (an int or a tuple), as PyTorch's.</summary>
    public override string ExtraRepr() => _repr;
}
