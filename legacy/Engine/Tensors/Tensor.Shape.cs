namespace Engine;

// Views and reshaping, joining and splitting, device and dtype moves.
public partial class Tensor
{
    static readonly Op s_view = new("aten::view"), s_reshape = new("aten::reshape");
    static readonly Op s_permute = new("aten::permute"), s_transpose = new("aten::transpose", "int");
    static readonly Op s_t = new("aten::t");
    static readonly Op s_squeeze = new("aten::squeeze"), s_squeezeDim = new("aten::squeeze", "dim");
    static readonly Op s_unsqueeze = new("aten::unsqueeze");
    static readonly Op s_expand = new("aten::expand"), s_expandAs = new("aten::expand_as");
    static readonly Op s_cat = new("aten::cat"), s_stack = new("aten::stack");
    static readonly Op s_split = new("aten::split", "Tensor"), s_splitSizes = new("aten::split_with_sizes");
    static readonly Op s_chunk = new("aten::chunk"), s_unbind = new("aten::unbind", "int");
    static readonly Op s_flatten = new("aten::flatten", "using_ints"), s_contiguous = new("aten::contiguous");
    static readonly Op s_narrow = new("aten::narrow"), s_select = new("aten::select", "int");
    static readonly Op s_slice = new("aten::slice", "Tensor"), s_repeat = new("aten::repeat");
    static readonly Op s_clone = new("aten::clone"), s_detach = new("aten::detach"), s_detach_ = new("aten::detach_");
    static readonly Op s_toDevice = new("aten::to", "device"), s_toDtype = new("aten::to", "dtype");
    static readonly Op s_flip = new("aten::flip"), s_gather = new("aten::gather"), s_indexSelect = new("aten::index_select");
    static readonly Op s_scatter = new("aten::scatter", "src"), s_maskedFill = new("aten::masked_fill", "Scalar");
    static readonly Op s_maskedFill_ = new("aten::masked_fill_", "Scalar"), s_maskedSelect = new("aten::masked_select");
    static readonly Op s_nonzero = new("aten::nonzero"), s_oneHot = new("aten::one_hot");
    static readonly Op s_tril = new("aten::tril"), s_triu = new("aten::triu");
    static readonly Op s_repeatInterleave = new("aten::repeat_interleave", "self_int");

    /// <summary>Same data, new shape (no copy; one size may be -1).</summary>
    public Tensor View(params long[] shape) => s_view.Call(this, shape);
    /// <summary>New shape, copying only if the layout requires it.</summary>
    public Tensor Reshape(params long[] shape) => s_reshape.Call(this, shape);
    public Tensor Permute(params long[] dims) => s_permute.Call(this, dims);
    public Tensor Transpose(long dim0, long dim1) => s_transpose.Call(this, dim0, dim1);
    /// <summary>Transpose of a 2-d tensor (tensor.T / .t()).</summary>
    public Tensor T() => s_t.Call(this);
    public Tensor Squeeze() => s_squeeze.Call(this);
    public Tensor Squeeze(long dim) => s_squeezeDim.Call(this, dim);
    public Tensor Unsqueeze(long dim) => s_unsqueeze.Call(this, dim);
    /// <summary>Broadcast to a larger shape without copying (-1 keeps a size).</summary>
    public Tensor Expand(params long[] shape) => s_expand.Call(this, shape);
    public Tensor ExpandAs(Tensor other) => s_expandAs.Call(this, other);
    public Tensor Flatten(long startDim = 0, long endDim = -1) => s_flatten.Call(this, startDim, endDim);
    public Tensor Contiguous() => s_contiguous.Call(this);
    public Tensor Narrow(long dim, long start, long length) => s_narrow.Call(this, dim, start, length);
    /// <summary>The slice at <paramref name="index"/> along <paramref name="dim"/>, which is removed.</summary>
    public Tensor Select(long dim, long index) => s_select.Call(this, dim, index);
    public Tensor Slice(long dim, long? start, long? end, long step = 1) => s_slice.Call(this, dim, Arg.Of(start), Arg.Of(end), step);
    public Tensor Repeat(params long[] repeats) => s_repeat.Call(this, repeats);
    /// <summary>Each element repeated <paramref name="repeats"/> times (along dim, or flattened).</summary>
    public Tensor RepeatInterleave(long repeats, long? dim = null) => s_repeatInterleave.Call(this, repeats, Arg.Of(dim));
    public Tensor Flip(params long[] dims) => s_flip.Call(this, dims);
    public Tensor Gather(long dim, Tensor index) => s_gather.Call(this, dim, index);
    public Tensor IndexSelect(long dim, Tensor index) => s_indexSelect.Call(this, dim, index);
    public Tensor Scatter(long dim, Tensor index, Tensor src) => s_scatter.Call(this, dim, index, src);
    public Tensor MaskedFill(Tensor mask, double value) => s_maskedFill.Call(this, mask, value);
    public Tensor MaskedFill_(Tensor mask, double value) { s_maskedFill_.CallInPlace(this, mask, value); return this; }
    public Tensor MaskedSelect(Tensor mask) => s_maskedSelect.Call(this, mask);
    /// <summary>Indices of non-zero elements, [n, dim].</summary>
    public Tensor Nonzero() => s_nonzero.Call(this);
    public Tensor OneHot(long numClasses = -1) => s_oneHot.Call(this, numClasses);
    public Tensor Tril(long diagonal = 0) => s_tril.Call(this, diagonal);
    public Tensor Triu(long diagonal = 0) => s_triu.Call(this, diagonal);

    /// <summary>Pieces of <paramref name="size"/> along dim (the last may be smaller).</summary>
    public Tensor[] Split(long size, long dim = 0) => s_split.CallTensors(this, size, dim);
    public Tensor[] Split(long[] sizes, long dim = 0) => s_splitSizes.CallTensors(this, sizes, dim);
    public Tensor[] Chunk(long chunks, long dim = 0) => s_chunk.CallTensors(this, chunks, dim);
    public Tensor[] Unbind(long dim = 0) => s_unbind.CallTensors(this, dim);

    /// <summary>A copy with its own memory (autograd records it).</summary>
    public Tensor Clone() => s_clone.Call(this);
    /// <summary>The same data, cut from the autograd graph.</summary>
    public Tensor Detach() => s_detach.Call(this);
    public Tensor Detach_() { s_detach_.CallInPlace(this); return this; }

    /// <summary>This tensor on <paramref name="device"/> (itself, as a new owner, if already there).</summary>
    public Tensor To(Device device, bool nonBlocking = false, bool copy = false) =>
        s_toDevice.Call(this, device, DType, nonBlocking, copy);
    public Tensor To(ScalarType dtype, bool nonBlocking = false, bool copy = false) =>
        s_toDtype.Call(this, dtype, nonBlocking, copy);
    public Tensor To(Device device, ScalarType dtype, bool nonBlocking = false, bool copy = false) =>
        s_toDevice.Call(this, device, dtype, nonBlocking, copy);
    /// <summary>Replaces this tensor's data with <paramref name="data"/>'s (param.data = x), keeping
    /// its identity, so optimizers and hooks holding it see the new values.</summary>
    public void SetData(Tensor data) =>
        Interop.Native.Check(KeepAlive(Interop.Native.eng_tensor_set_data(Handle, data.Handle)), $"set_data({Describe()}, {data.Describe()})");

    public Tensor Cpu() => To(Device.CPU);
    public Tensor Cuda(int index = 0) => To(Device.CUDA(index));
    public Tensor Float() => To(ScalarType.Float32);
    public Tensor Double() => To(ScalarType.Float64);
    public Tensor Long() => To(ScalarType.Int64);
    public Tensor Int() => To(ScalarType.Int32);
    public Tensor Bool() => To(ScalarType.Bool);
    public Tensor Half() => To(ScalarType.Float16);
    public Tensor BFloat16() => To(ScalarType.BFloat16);
}

public static partial class Torch
{
    public static Tensor Cat(Tensor[] tensors, long dim = 0) => Op.Get("aten::cat").Call(tensors, dim);
    public static Tensor Stack(Tensor[] tensors, long dim = 0) => Op.Get("aten::stack").Call(tensors, dim);
    /// <summary>Elementwise condition ? x : y.</summary>
    public static Tensor Where(Tensor condition, Tensor x, Tensor y) => x.Where(condition, y);
}
