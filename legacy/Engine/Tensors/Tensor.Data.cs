using System.Runtime.InteropServices;
using Engine.Interop;

namespace Engine;

// Moving data between C# memory and tensors.
public static partial class Torch
{
    /// <summary>A tensor holding a copy of <paramref name="data"/> (torch.tensor). The shape
    /// defaults to 1-d; its product must equal the data's length.</summary>
    public static Tensor FromArray<T>(T[] data, params long[] shape) where T : unmanaged =>
        FromSpan<T>(data, shape.Length == 0 ? [data.LongLength] : shape);

    public static Tensor FromArray<T>(T[,] data) where T : unmanaged =>
        FromSpan<T>(MemoryMarshal.CreateReadOnlySpan(ref data[0, 0], data.Length), [data.GetLength(0), data.GetLength(1)]);

    public static Tensor FromArray<T>(T[,,] data) where T : unmanaged =>
        FromSpan<T>(MemoryMarshal.CreateReadOnlySpan(ref data[0, 0, 0], data.Length),
            [data.GetLength(0), data.GetLength(1), data.GetLength(2)]);

    /// <summary>Copies <paramref name="data"/> into a new tensor of <paramref name="shape"/> on
    /// <paramref name="device"/> (default: <see cref="DefaultDevice"/>).</summary>
    public static unsafe Tensor FromSpan<T>(ReadOnlySpan<T> data, long[] shape, Device? device = null, bool requiresGrad = false)
        where T : unmanaged
    {
        var dtype = ScalarTypeExtensions.Of<T>();
        long numel = 1;
        foreach (var s in shape)
        {
            if (s < 0) throw new ArgumentException($"shape [{string.Join(", ", shape)}] has a negative size");
            numel *= s;
        }
        if (numel != data.Length)
            throw new ArgumentException($"FromArray: {data.Length} values cannot fill shape [{string.Join(", ", shape)}] ({numel} elements)");
        Tensor cpu;
        fixed (T* p = data)
        fixed (long* sp = shape)
            cpu = new Tensor(Native.Check(
                Native.eng_tensor_from_data(p, (long)data.Length * sizeof(T), sp, shape.Length, (int)dtype), "FromArray"));
        var dev = device ?? DefaultDevice;
        var result = cpu;
        if (dev.Type != DeviceType.CPU)
        {
            result = cpu.To(dev);
            cpu.Dispose();
        }
        return requiresGrad ? result.RequiresGrad_() : result;
    }
}

public partial class Tensor
{
    static readonly Op s_item = new("aten::item");

    /// <summary>A copy of the elements in row-major order, from any device and layout. T must
    /// match the dtype (float for float32, long for int64...).</summary>
    public unsafe T[] ToArray<T>() where T : unmanaged
    {
        CheckElementType<T>("ToArray");
        var result = new T[NumEl];
        fixed (T* p = result)
            Native.Check(KeepAlive(Native.eng_tensor_copy_to(Handle, p, (long)result.Length * sizeof(T))), "ToArray");
        return result;
    }

    /// <summary>The value of a one-element tensor, converted to T (tensor.item()).</summary>
    public T Item<T>() where T : unmanaged
    {
        var n = NumEl;
        if (n != 1) throw new InvalidOperationException($"Item: a tensor with {n} elements cannot be converted to a scalar (shape [{string.Join(", ", Shape)}])");
        var r = s_item.CallScalar(this);
        object boxed = r.Kind switch
        {
            ArgKind.Double => r.D,
            ArgKind.Int => r.I,
            ArgKind.Bool => r.I != 0,
            _ => throw new TorchException("aten::item", $"unexpected result kind {r.Kind}"),
        };
        if (typeof(T) == typeof(bool)) return (T)(object)Convert.ToBoolean(boxed);
        if (typeof(T) == typeof(Half)) return (T)(object)(Half)Convert.ToDouble(boxed);
        if (typeof(T) == typeof(BFloat16)) return (T)(object)(BFloat16)(float)Convert.ToDouble(boxed);
        return (T)Convert.ChangeType(boxed, typeof(T));
    }

    /// <summary>The value of a one-element tensor as a double.</summary>
    public double ToDouble() => Item<double>();

    /// <summary>
    /// The tensor's own memory as a span, for kernels written in C# (e.g. fused optimizer
    /// updates). No copy: writes change the tensor. Only for contiguous CPU tensors whose dtype
    /// matches T; the span is valid while the tensor is alive and not resized. Writes are not seen
    /// by autograd.
    /// </summary>
    public unsafe Span<T> AsSpan<T>() where T : unmanaged
    {
        CheckElementType<T>("AsSpan");
        var dev = Device;
        if (dev.Type != DeviceType.CPU) throw new InvalidOperationException($"AsSpan needs a CPU tensor; this one is on {dev}");
        if (!IsContiguous) throw new InvalidOperationException("AsSpan needs a contiguous tensor; call Contiguous() first");
        long n = NumEl;
        if (n > int.MaxValue) throw new InvalidOperationException($"AsSpan: {n} elements do not fit a span");
        if (n == 0) return Span<T>.Empty;
        var p = (void*)KeepAlive((nint)Native.eng_tensor_data_ptr(Handle));
        if (p == null) throw new TorchException("data_ptr", Native.LastError());
        return new Span<T>(p, (int)n);
    }

    /// <summary>The address of the first element (tensor.data_ptr()).</summary>
    public unsafe nint DataPointer => (nint)(void*)KeepAlive((nint)Native.eng_tensor_data_ptr(Handle));

    void CheckElementType<T>(string what) where T : unmanaged
    {
        var want = ScalarTypeExtensions.Of<T>();
        var have = DType;
        if (want != have)
            throw new InvalidOperationException($"{what}<{typeof(T).Name}> on a {have.TorchName()} tensor: use {what}<{ElementTypeName(have)}> or convert with To(ScalarType.{want})");
    }

    static string ElementTypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float",
        ScalarType.Float64 => "double",
        ScalarType.Int64 => "long",
        ScalarType.Int32 => "int",
        ScalarType.Int16 => "short",
        ScalarType.Int8 => "sbyte",
        ScalarType.UInt8 => "byte",
        ScalarType.Bool => "bool",
        ScalarType.Float16 => "Half",
        ScalarType.BFloat16 => "BFloat16",
        _ => t.ToString(),
    };
}
