namespace Engine.Nn;

/// <summary>
/// 2-d max pooling over [N, C, H, W] or [C, H, W] (nn.MaxPool2d): each output is the maximum of
/// a kernel_size window (dilated), moved by stride (default: the kernel size) over the input padded
/// with −∞. Output size: ⌊(in + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1 (⌈⌉ with
/// ceil mode, dropping a last window that would start in the right padding).
/// <see cref="ForwardWithIndices"/> also returns the argmax positions (return_indices=True).
/// Checked against nn.MaxPool2d (Python fixtures) and aten::max_pool2d, in MaxPool2dTests.
/// </summary>
public sealed class MaxPool2d : Module<Tensor, Tensor>
{
    public long[] KernelSize { get; }
    public long[] Stride { get; }
    public long[] Padding { get; }
    public long[] Dilation { get; }
    public bool CeilMode { get; }
    readonly string _repr;

    public MaxPool2d(long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false)
        : this([kernelSize, kernelSize], stride is null ? null : [stride.Value, stride.Value], [padding, padding], [dilation, dilation], ceilMode,
            $"kernel_size={kernelSize}, stride={stride ?? kernelSize}, padding={padding}, dilation={dilation}")
    {
    }

    /// <summary>Sizes per spatial dimension as (height, width).</summary>
    public MaxPool2d((long, long) kernelSize, (long, long)? stride = null, (long, long)? padding = null, (long, long)? dilation = null, bool ceilMode = false)
        : this(Conv2d.Pair(kernelSize), stride is null ? null : Conv2d.Pair(stride.Value), Conv2d.Pair(padding ?? (0, 0)),
            Conv2d.Pair(dilation ?? (1, 1)), ceilMode,
            $"kernel_size={Repr.Tuple(Conv2d.Pair(kernelSize))}, stride={Repr.Tuple(Conv2d.Pair(stride ?? kernelSize))}, " +
            $"padding={(padding is null ? "0" : Repr.Tuple(Conv2d.Pair(padding.Value)))}, dilation={(dilation is null ? "1" : Repr.Tuple(Conv2d.Pair(dilation.Value)))}")
    {
    }

    MaxPool2d(long[] kernel, long[]? stride, long[] padding, long[] dilation, bool ceilMode, string repr)
    {
        KernelSize = kernel;
        Stride = stride ?? kernel;
        Padding = padding;
        Dilation = dilation;
        CeilMode = ceilMode;
        _repr = repr;
        Pooling.CheckArguments(this, kernel, Stride, padding, dilation);
    }

    public override Tensor Forward(Tensor input)
    {
        Pooling.CheckInput(this, input, KernelSize, Stride, Padding, Dilation, CeilMode);
        return Functional.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode);
    }

    /// <summary>(maxima, flat index of each maximum within its input plane), as return_indices=True;
    /// the indices feed MaxUnpool2d.</summary>
    public (Tensor Output, Tensor Indices) ForwardWithIndices(Tensor input)
    {
        Pooling.CheckInput(this, input, KernelSize, Stride, Padding, Dilation, CeilMode);
        var r = Functional.MaxPool2dWithIndices(input, KernelSize, Stride, Padding, Dilation, CeilMode);
        RunForwardHooks(input, r);
        return r;
    }

    /// <summary>The sizes print as given (an int or a tuple), as PyTorch's.</summary>
    public override string ExtraRepr() => $"{_repr}, ceil_mode={Repr.Bool(CeilMode)}";
}
