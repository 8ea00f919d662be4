using System.Runtime.CompilerServices;
using System.Text;
using Engine.Interop;

namespace Engine;

/// <summary>
/// A libtorch tensor. It owns one reference to the native tensor and releases it on
/// <see cref="Dispose"/>: native memory the GC cannot see is freed deterministically, by you or
/// by the <see cref="DisposeScope"/> it was created in. The finalizer is only a safety net.
/// </summary>
public partial class Tensor : IDisposable
{
    nint _handle;
    internal DisposeScope? Scope;
    static long s_live;

    /// <summary>Takes ownership of a native handle (one reference).</summary>
    internal Tensor(nint handle)
    {
        if (handle == 0) throw new ArgumentException("null tensor handle");
        _handle = handle;
        Interlocked.Increment(ref s_live);
        DisposeScope.Current?.Register(this);
    }

    /// <summary>Tensors created and not yet disposed or finalized, in this process.</summary>
    public static long LiveCount => Interlocked.Read(ref s_live);

    internal nint Handle
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            var h = _handle;
            if (h == 0) ThrowDisposed();
            return h;
        }
    }

    /// <summary>Returns a native call's result after it finished, keeping this tensor (and so
    /// its handle) alive until then: otherwise the finalizer could free the handle mid-call once
    /// the JIT considers `this` dead.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal T KeepAlive<T>(T result)
    {
        GC.KeepAlive(this);
        return result;
    }

    static void ThrowDisposed() =>
        throw new ObjectDisposedException(nameof(Tensor), "this tensor was disposed (by you or by its DisposeScope)");

    public bool IsDisposed => _handle == 0;

    public void Dispose()
    {
        var h = Interlocked.Exchange(ref _handle, 0);
        if (h == 0) return;
        Native.eng_tensor_free(h);
        Interlocked.Decrement(ref s_live);
        GC.SuppressFinalize(this);
    }

    ~Tensor()
    {
        var h = Interlocked.Exchange(ref _handle, 0);
        if (h == 0) return;
        Native.eng_tensor_free(h);
        Interlocked.Decrement(ref s_live);
    }

    /// <summary>Keeps this tensor alive past the current <see cref="DisposeScope"/>: it moves to
    /// the enclosing scope, or to no scope (you dispose it) if there is none.</summary>
    public Tensor MoveToOuterScope()
    {
        Scope?.Release(this);
        return this;
    }

    /// <summary>Takes this tensor out of every scope: you dispose it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        Scope = null;
        return this;
    }

    /// <summary>A second owner of the same native tensor (shares storage and autograd identity).</summary>
    public Tensor Alias() => new(KeepAlive(Native.eng_tensor_retain(Handle)));

    // ---- metadata ----

    public unsafe ScalarType DType => (ScalarType)Native.Check(KeepAlive(Native.eng_tensor_scalar_type(Handle)), "dtype");

    public unsafe Device Device
    {
        get
        {
            int* info = stackalloc int[7];
            Native.Check(KeepAlive(Native.eng_tensor_info(Handle, info)), "device");
            return new Device((DeviceType)info[1], info[2]);
        }
    }

    public int Dim => Native.Check(KeepAlive(Native.eng_tensor_dim(Handle)), "dim");

    public unsafe long[] Shape
    {
        get
        {
            long* buf = stackalloc long[64];
            int n = Native.Check(KeepAlive(Native.eng_tensor_sizes(Handle, buf, 64)), "sizes");
            if (n <= 64) return new ReadOnlySpan<long>(buf, n).ToArray();
            // More dimensions than the stack buffer holds: ask again with room for all of them.
            var all = new long[n];
            fixed (long* p = all) Native.Check(KeepAlive(Native.eng_tensor_sizes(Handle, p, n)), "sizes");
            return all;
        }
    }

    public unsafe long[] Strides
    {
        get
        {
            long* buf = stackalloc long[64];
            int n = Native.Check(KeepAlive(Native.eng_tensor_strides(Handle, buf, 64)), "strides");
            if (n <= 64) return new ReadOnlySpan<long>(buf, n).ToArray();
            var all = new long[n];
            fixed (long* p = all) Native.Check(KeepAlive(Native.eng_tensor_strides(Handle, p, n)), "strides");
            return all;
        }
    }

    /// <summary>Size of one dimension; negative counts from the end.</summary>
    public long Size(int dim)
    {
        var shape = Shape;
        int d = dim < 0 ? dim + shape.Length : dim;
        if (d < 0 || d >= shape.Length)
            throw new ArgumentOutOfRangeException(nameof(dim), $"dimension {dim} is out of range for a {shape.Length}-d tensor");
        return shape[d];
    }

    public long NumEl => KeepAlive(Native.eng_tensor_numel(Handle));
    public int ElementSize => DType.ElementSize();

    public unsafe bool IsContiguous
    {
        get
        {
            int* info = stackalloc int[7];
            Native.Check(KeepAlive(Native.eng_tensor_info(Handle, info)), "is_contiguous");
            return info[5] != 0;
        }
    }

    public bool IsCuda => Device.IsCuda;
    public bool IsFloatingPoint => DType.IsFloatingPoint();

    /// <summary>"Tensor[2, 3] float32 cpu": for error messages.</summary>
    internal string Describe()
    {
        if (_handle == 0) return "Tensor(disposed)";
        try
        {
            return $"Tensor[{string.Join(", ", Shape)}] {DType.TorchName()} {Device}";
        }
        catch (Exception)
        {
            return "Tensor(?)";
        }
    }
}
