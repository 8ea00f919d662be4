using System.Runtime.InteropServices;

namespace Engine.Interop;

/// <summary>The native shim's C ABI (Engine/Native/shim.h). Every call that can fail returns a
/// negative number or null; <c>Check</c> turns that into a managed exception.</summary>
internal static unsafe partial class Native
{
    internal const string Lib = "engine_shim";

    static Native() => NativeLoader.Register();

    [LibraryImport(Lib)] internal static partial nint eng_last_error();
    [LibraryImport(Lib)] internal static partial void eng_tensor_free(nint h);
    [LibraryImport(Lib)] internal static partial nint eng_tensor_retain(nint h);
    [LibraryImport(Lib)] internal static partial void eng_free(void* p);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int eng_op_find(string name, string overload);
    [LibraryImport(Lib)] internal static partial int eng_op_schema(int id, byte* buf, int cap);
    [LibraryImport(Lib)] internal static partial long eng_op_list(byte* buf, long cap);
    [LibraryImport(Lib)] internal static partial int eng_op_call(int id, NativeArg* args, int nargs, NativeArg* outs, int maxOuts);

    [LibraryImport(Lib)] internal static partial int eng_tensor_info(nint h, int* out7);
    [LibraryImport(Lib)] internal static partial int eng_tensor_dim(nint h);
    [LibraryImport(Lib)] internal static partial int eng_tensor_scalar_type(nint h);
    [LibraryImport(Lib)] internal static partial int eng_tensor_sizes(nint h, long* out_, int cap);
    [LibraryImport(Lib)] internal static partial int eng_tensor_strides(nint h, long* out_, int cap);
    [LibraryImport(Lib)] internal static partial long eng_tensor_numel(nint h);
    [LibraryImport(Lib)] internal static partial void* eng_tensor_data_ptr(nint h);
    [LibraryImport(Lib)] internal static partial nint eng_tensor_from_data(void* data, long nbytes, long* sizes, int ndim, int dtype);
    [LibraryImport(Lib)] internal static partial int eng_tensor_copy_to(nint h, void* dst, long nbytes);
    [LibraryImport(Lib)] internal static partial int eng_tensor_set_data(nint h, nint newData);

    [LibraryImport(Lib)] internal static partial int eng_tensor_set_requires_grad(nint h, int value);
    [LibraryImport(Lib)] internal static partial nint eng_tensor_grad(nint h);
    [LibraryImport(Lib)] internal static partial int eng_tensor_set_grad(nint h, nint grad);
    [LibraryImport(Lib)] internal static partial int eng_tensor_grad_data(nint h, void** data);
    [LibraryImport(Lib)] internal static partial int eng_tensor_grads(nint* hs, int n, nint* out_);
    [LibraryImport(Lib)] internal static partial int eng_tensor_grad_fn(nint h, byte* buf, int cap);
    [LibraryImport(Lib)] internal static partial int eng_backward(nint* outputs, nint* grads, int n, int retainGraph, int createGraph);
    [LibraryImport(Lib)] internal static partial int eng_grad(nint* outputs, nint* grads, int nOut, nint* inputs, int nIn, int retainGraph, int createGraph, int allowUnused, nint* results);
    [LibraryImport(Lib)] internal static partial int eng_grad_enabled();
    [LibraryImport(Lib)] internal static partial void eng_set_grad_enabled(int enabled);

    [LibraryImport(Lib)] internal static partial int eng_manual_seed(ulong seed);
    [LibraryImport(Lib)] internal static partial int eng_cuda_manual_seed_all(ulong seed);
    [LibraryImport(Lib)] internal static partial nint eng_generator_new(int deviceType, int deviceIndex, ulong seed);
    [LibraryImport(Lib)] internal static partial nint eng_generator_default(int deviceType, int deviceIndex);
    [LibraryImport(Lib)] internal static partial void eng_generator_free(nint g);
    [LibraryImport(Lib)] internal static partial int eng_generator_set_seed(nint g, ulong seed);
    [LibraryImport(Lib)] internal static partial ulong eng_generator_seed(nint g);
    [LibraryImport(Lib)] internal static partial int eng_cuda_is_available();
    [LibraryImport(Lib)] internal static partial int eng_cuda_device_count();
    [LibraryImport(Lib)] internal static partial int eng_cuda_synchronize(int deviceIndex);
    [LibraryImport(Lib)] internal static partial int eng_get_num_threads();
    [LibraryImport(Lib)] internal static partial void eng_set_num_threads(int n);
    [LibraryImport(Lib)] internal static partial nint eng_torch_version();

    internal static string LastError() => Marshal.PtrToStringUTF8(eng_last_error()) ?? "";

    /// <summary>Throws the native error if <paramref name="rc"/> is negative.</summary>
    internal static int Check(int rc, string what)
    {
        if (rc < 0) throw new TorchException(what, LastError());
        return rc;
    }

    internal static nint Check(nint handle, string what)
    {
        if (handle == 0) throw new TorchException(what, LastError());
        return handle;
    }
}

/// <summary>One argument or result of a boxed operator call; mirrors eng_arg in shim.h.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct NativeArg
{
    public ArgKind Kind;
    public int Aux;
    public long I;
    public double D;
    public nint P;
}

internal enum ArgKind : int
{
    Absent = 0, None = 1, Tensor = 2, Int = 3, Double = 4, Bool = 5, IntList = 6, DoubleList = 7,
    BoolList = 8, TensorList = 9, OptTensorList = 10, ScalarType = 11, Device = 12, String = 13,
    Layout = 14, MemoryFormat = 15, Generator = 16,
}
