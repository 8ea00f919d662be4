namespace Engine;

// Tensor creation. Every factory takes an optional dtype (default: DefaultDType for floating
// results, int64 for integer ones), device (default: DefaultDevice) and requiresGrad.
public static partial class Torch
{
    static readonly Op s_zeros = new("aten::zeros");
    static readonly Op s_ones = new("aten::ones");
    static readonly Op s_empty = new("aten::empty", "memory_format");
    static readonly Op s_full = new("aten::full");
    static readonly Op s_arange = new("aten::arange", "start_step");
    static readonly Op s_linspace = new("aten::linspace");
    static readonly Op s_eye = new("aten::eye", "m");
    static readonly Op s_rand = new("aten::rand", "generator");
    static readonly Op s_randn = new("aten::randn", "generator");
    static readonly Op s_randint = new("aten::randint", "low_generator");
    static readonly Op s_randperm = new("aten::randperm", "generator");
    static readonly Op s_zerosLike = new("aten::zeros_like");
    static readonly Op s_onesLike = new("aten::ones_like");
    static readonly Op s_fullLike = new("aten::full_like");
    static readonly Op s_randLike = new("aten::rand_like");
    static readonly Op s_randnLike = new("aten::randn_like");
    static readonly Op s_emptyLike = new("aten::empty_like");

    static Tensor Finish(Tensor t, bool requiresGrad) => requiresGrad ? t.RequiresGrad_() : t;

    static Device Dev(Device? device) => device ?? DefaultDevice;

    public static Tensor Zeros(params long[] shape) => Zeros(shape, null);
    public static Tensor Zeros(long[] shape, ScalarType? dtype = null, Device? device = null, bool requiresGrad = false) =>
        Finish(s_zeros.Call(shape, dtype ?? DefaultDType, Arg.None, Dev(device)), requiresGrad);

    public static Tensor Ones(params long[] shape) => Ones(shape, null);
    public static Tensor Ones(long[] shape, ScalarType? dtype = null, Device? device = null, bool requiresGrad = false) =>
        Finish(s_ones.Call(shape, dtype ?? DefaultDType, Arg.None, Dev(device)), requiresGrad);

    /// <summary>Uninitialized memory: write before you read.</summary>
    public static Tensor Empty(params long[] shape) => Empty(shape, null);
    public static Tensor Empty(long[] shape, ScalarType? dtype = null, Device? device = null, bool requiresGrad = false) =>
        Finish(s_empty.Call(shape, dtype ?? DefaultDType, Arg.None, Dev(device)), requiresGrad);

    public static Tensor Full(long[] shape, double value, ScalarType? dtype = null, Device? device = null, bool requiresGrad = false) =>
        Finish(s_full.Call(shape, value, dtype ?? DefaultDType, Arg.None, Dev(device)), requiresGrad);

    public static Tensor Full(long[] shape, long value, ScalarType? dtype = null, Device? device = null, bool requiresGrad = false) =>
        Finish(s_full.Call(shape, value, dtype ?? ScalarType.Int64, Arg.None, Dev(device)), requiresGrad);

    /// <summary>0, 1, ..., end-1 as int64 (torch.arange(end)).</summary>
    public static Tensor Arange(long end, ScalarType? dtype = null, Device? device = null) => Arange(0L, end, 1L, dtype, device);

    public static Tensor Arange(long start, long end, long step = 1, ScalarType? dtype = null, Device? device = null) =>
        s_arange.Call(start, end, step, dtype ?? ScalarType.Int64, Arg.None, Dev(device));

    /// <summary>start, start+step, ... below end, in the default floating dtype.</summary>
    public static Tensor Arange(double start, double end, double step = 1, ScalarType? dtype = null, Device? device = null, bool requiresGrad = false) =>
        Finish(s_arange.Call(start, end, step, dtype ?? DefaultDType, Arg.None, Dev(device)), requiresGrad);

    public static Tensor Linspace(double start, double end, long steps, ScalarType? dtype = null, Device? device = null, bool requiresGrad = false) =>
        Finish(s_linspace.Call(start, end, steps, dtype ?? DefaultDType, Arg.None, Dev(device)), requiresGrad);

    public static Tensor Eye(long n, long? m = null, ScalarType? dtype = null, Device? device = null, bool requiresGrad = false) =>
        Finish(s_eye.Call(n, m ?? n, dtype ?? DefaultDType, Arg.None, Dev(device)), requiresGrad);

    /// <summary>Uniform on [0, 1).</summary>
    public static Tensor Rand(params long[] shape) => Rand(shape, null);
    public static Tensor Rand(long[] shape, ScalarType? dtype = null, Device? device = null, bool requiresGrad = false, Generator? generator = null) =>
        Finish(s_rand.Call(shape, generator, dtype ?? DefaultDType, Arg.None, Dev(device)), requiresGrad);

    /// <summary>Standard normal.</summary>
    public static Tensor Randn(params long[] shape) => Randn(shape, null);
    public static Tensor Randn(long[] shape, ScalarType? dtype = null, Device? device = null, bool requiresGrad = false, Generator? generator = null) =>
        Finish(s_randn.Call(shape, generator, dtype ?? DefaultDType, Arg.None, Dev(device)), requiresGrad);

    /// <summary>Integers uniform on [low, high), int64 by default.</summary>
    public static Tensor Randint(long low, long high, long[] shape, ScalarType? dtype = null, Device? device = null, Generator? generator = null) =>
        s_randint.Call(low, high, shape, generator, dtype ?? ScalarType.Int64, Arg.None, Dev(device));

    public static Tensor Randint(long high, long[] shape, ScalarType? dtype = null, Device? device = null, Generator? generator = null) =>
        Randint(0, high, shape, dtype, device, generator);

    /// <summary>A random permutation of 0..n-1.</summary>
    public static Tensor Randperm(long n, ScalarType? dtype = null, Device? device = null, Generator? generator = null) =>
        s_randperm.Call(n, generator, dtype ?? ScalarType.Int64, Arg.None, Dev(device));

    public static Tensor ZerosLike(Tensor t, ScalarType? dtype = null) => s_zerosLike.Call(t, Arg.Of(dtype));
    public static Tensor OnesLike(Tensor t, ScalarType? dtype = null) => s_onesLike.Call(t, Arg.Of(dtype));
    public static Tensor EmptyLike(Tensor t, ScalarType? dtype = null) => s_emptyLike.Call(t, Arg.Of(dtype));
    public static Tensor FullLike(Tensor t, double value, ScalarType? dtype = null) => s_fullLike.Call(t, value, Arg.Of(dtype));
    public static Tensor RandLike(Tensor t, ScalarType? dtype = null) => s_randLike.Call(t, Arg.Of(dtype));
    public static Tensor RandnLike(Tensor t, ScalarType? dtype = null) => s_randnLike.Call(t, Arg.Of(dtype));

    /// <summary>A 0-d tensor holding one number.</summary>
    public static Tensor Scalar(double value, ScalarType? dtype = null, Device? device = null) =>
        Full(Array.Empty<long>(), value, dtype, device);

    public static Tensor Scalar(long value, ScalarType? dtype = null, Device? device = null) =>
        Full(Array.Empty<long>(), value, dtype, device);
}
