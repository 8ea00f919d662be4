using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Engine.Interop;

namespace Engine;

/// <summary>
/// Any ATen operator, called by name and overload through libtorch's boxed dispatcher. Arguments
/// are positional in schema order; those left out (or <see cref="Arg.Absent"/>) take the default
/// from the runtime's own schema, so a missing typed wrapper never blocks a user:
/// <code>using var y = Op.Get("aten::hardtanh").Call(x, -2.0, 2.0);</code>
/// The operator is looked up once, on first use, and its id kept.
/// </summary>
public sealed class Op
{
    static readonly ConcurrentDictionary<(string, string), Op> s_ops = new();

    public string Name { get; }
    public string Overload { get; }
    int _id = -1;

    /// <summary>Typed wrappers keep one of these in a static field; lookup is deferred.</summary>
    internal Op(string name, string overload = "")
    {
        Name = name.Contains("::") ? name : "aten::" + name;
        Overload = overload;
    }

    /// <summary>The operator <paramref name="name"/> ("aten::add" or "add") with that overload
    /// ("Tensor", "Scalar", or "" for the default). Throws if this libtorch has no such operator.</summary>
    public static Op Get(string name, string overload = "")
    {
        var op = s_ops.GetOrAdd((name, overload), k => new Op(k.Item1, k.Item2));
        op.Id();
        return op;
    }

    /// <summary>Whether this libtorch registers the operator.</summary>
    public static bool Exists(string name, string overload = "")
    {
        var full = name.Contains("::") ? name : "aten::" + name;
        return Native.eng_op_find(full, overload) >= 0;
    }

    /// <summary>Every registered operator as "name.overload".</summary>
    public static unsafe IReadOnlyList<string> All()
    {
        long n = Native.eng_op_list(null, 0);
        var buf = new byte[n + 1];
        fixed (byte* p = buf) Native.eng_op_list(p, buf.Length);
        return Encoding.UTF8.GetString(buf, 0, (int)n).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The schema text, e.g. "aten::add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor".</summary>
    public unsafe string Schema
    {
        get
        {
            int id = Id();
            int n = Native.Check(Native.eng_op_schema(id, null, 0), FullName);
            var buf = new byte[n + 1];
            fixed (byte* p = buf) Native.eng_op_schema(id, p, buf.Length);
            return Encoding.UTF8.GetString(buf, 0, n);
        }
    }

    public string FullName => Overload.Length == 0 ? Name : Name + "." + Overload;
    public override string ToString() => FullName;

    int Id()
    {
        int id = _id;
        if (id >= 0) return id;
        id = Native.eng_op_find(Name, Overload);
        if (id < 0) throw new TorchException(FullName, Native.LastError());
        return _id = id;
    }

    const int MaxOuts = 16;

    /// <summary>Calls the operator and returns its first result, which must be a tensor.</summary>
    public unsafe Tensor Call(params ReadOnlySpan<Arg> args)
    {
        NativeArg* outs = stackalloc NativeArg[MaxOuts];
        int n = Run(args, outs);
        if (n >= 1 && outs[0].Kind == ArgKind.Tensor)
        {
            for (int k = 1; k < n; k++) Release(ref outs[k]);
            return new Tensor(outs[0].P);
        }
        for (int k = 0; k < n; k++) Release(ref outs[k]);
        throw new TorchException(FullName, "the operator did not return a tensor");
    }

    /// <summary>Calls an in-place or out= operator whose result aliases an input; drops the alias.</summary>
    public unsafe void CallInPlace(params ReadOnlySpan<Arg> args)
    {
        NativeArg* outs = stackalloc NativeArg[MaxOuts];
        int n = Run(args, outs);
        for (int k = 0; k < n; k++) Release(ref outs[k]);
    }

    /// <summary>Calls the operator and returns every tensor it returned (several results, or a list).</summary>
    public unsafe Tensor[] CallTensors(params ReadOnlySpan<Arg> args)
    {
        NativeArg* outs = stackalloc NativeArg[MaxOuts];
        int n = Run(args, outs);
        if (n == 1 && outs[0].Kind == ArgKind.TensorList) return TakeList(ref outs[0]);
        var result = new Tensor[n];
        for (int k = 0; k < n; k++)
        {
            if (outs[k].Kind != ArgKind.Tensor)
            {
                for (int j = k; j < n; j++) Release(ref outs[j]);
                foreach (var t in result) t?.Dispose();
                throw new TorchException(FullName, $"result {k} is not a tensor");
            }
            result[k] = new Tensor(outs[k].P);
        }
        return result;
    }

    /// <summary>Calls the operator and returns its results boxed: <see cref="Tensor"/>,
    /// <c>Tensor[]</c>, <c>long</c>, <c>double</c>, <c>bool</c>, <c>long[]</c> or null.</summary>
    public unsafe object?[] Invoke(params object?[] args)
    {
        var a = new Arg[args.Length];
        for (int k = 0; k < args.Length; k++) a[k] = Arg.FromObject(args[k]);
        NativeArg* outs = stackalloc NativeArg[MaxOuts];
        int n = Run(a, outs);
        var result = new object?[n];
        for (int k = 0; k < n; k++)
        {
            result[k] = outs[k].Kind switch
            {
                ArgKind.Tensor => new Tensor(outs[k].P),
                ArgKind.TensorList => TakeList(ref outs[k]),
                ArgKind.Int => outs[k].I,
                ArgKind.Double => outs[k].D,
                ArgKind.Bool => outs[k].I != 0,
                ArgKind.IntList => TakeLongs(ref outs[k]),
                _ => null,
            };
        }
        return result;
    }

    /// <summary>Calls an operator that returns one number (e.g. aten::item, aten::_local_scalar_dense).</summary>
    internal unsafe NativeArg CallScalar(params ReadOnlySpan<Arg> args)
    {
        NativeArg* outs = stackalloc NativeArg[MaxOuts];
        int n = Run(args, outs);
        var first = outs[0];
        for (int k = 0; k < n; k++) Release(ref outs[k]);
        return first;
    }

    /// <summary>Calls an operator that returns one tensor list, writing new (owned) handles into
    /// <paramref name="results"/> instead of creating tensors; returns how many.</summary>
    internal unsafe int CallRawList(Span<nint> results, params ReadOnlySpan<Arg> args)
    {
        NativeArg* outs = stackalloc NativeArg[MaxOuts];
        int n = Run(args, outs);
        if (n != 1 || outs[0].Kind != ArgKind.TensorList || outs[0].I > results.Length)
        {
            for (int k = 0; k < n; k++) Release(ref outs[k]);
            throw new TorchException(FullName, "expected one tensor list result that fits the buffer");
        }
        var hs = (nint*)outs[0].P;
        int count = (int)outs[0].I;
        for (int j = 0; j < count; j++) results[j] = hs[j];
        Native.eng_free(hs);
        return count;
    }

    static unsafe Tensor[] TakeList(ref NativeArg o)
    {
        var hs = (nint*)o.P;
        var list = new Tensor[o.I];
        for (int j = 0; j < list.Length; j++) list[j] = new Tensor(hs[j]);
        Native.eng_free(hs);
        o.Kind = ArgKind.None;
        return list;
    }

    static unsafe long[] TakeLongs(ref NativeArg o)
    {
        var result = new ReadOnlySpan<long>((void*)o.P, (int)o.I).ToArray();
        Native.eng_free((void*)o.P);
        o.Kind = ArgKind.None;
        return result;
    }

    static unsafe void Release(ref NativeArg o)
    {
        switch (o.Kind)
        {
            case ArgKind.Tensor: Native.eng_tensor_free(o.P); break;
            case ArgKind.TensorList:
                var hs = (nint*)o.P;
                for (long j = 0; j < o.I; j++) Native.eng_tensor_free(hs[j]);
                Native.eng_free(hs);
                break;
            case ArgKind.IntList: Native.eng_free((void*)o.P); break;
        }
        o.Kind = ArgKind.None;
    }

    /// <summary>Marshals args into native form (lists and strings into one scratch buffer on the
    /// stack, or the native heap when large), calls, and throws a described error on failure.</summary>
    unsafe int Run(ReadOnlySpan<Arg> args, NativeArg* outs)
    {
        int id = Id();
        int n = args.Length;
        long scratch = 0; // bytes of list and string storage, 8-byte aligned pieces
        for (int k = 0; k < n; k++) scratch += ScratchBytes(args[k]);

        NativeArg* native = stackalloc NativeArg[n == 0 ? 1 : n];
        bool onHeap = scratch > 2048;
        byte* stackBuf = stackalloc byte[2048];
        byte* buf = onHeap ? (byte*)NativeMemory.Alloc((nuint)scratch) : stackBuf;
        try
        {
            byte* next = buf;
            for (int k = 0; k < n; k++) native[k] = ToNative(args[k], ref next);
            int rc = Native.eng_op_call(id, native, n, outs, MaxOuts);
            if (rc < 0) throw Error(args);
            return rc;
        }
        finally
        {
            if (onHeap) NativeMemory.Free(buf);
            // The handles above were read from these tensors: keep them alive through the call.
            for (int k = 0; k < n; k++) GC.KeepAlive(args[k].Ref);
        }
    }

    static long ScratchBytes(in Arg a) => a.Kind switch
    {
        ArgKind.IntList => 8L * ((long[])a.Ref!).Length,
        ArgKind.DoubleList => 8L * ((double[])a.Ref!).Length,
        ArgKind.BoolList => (((bool[])a.Ref!).Length + 7) & ~7,
        ArgKind.TensorList when a.Ref is nint[] => 8L * a.I,
        ArgKind.TensorList or ArgKind.OptTensorList => 8L * ((Tensor?[])a.Ref!).Length,
        ArgKind.String => (Encoding.UTF8.GetByteCount((string)a.Ref!) + 8) & ~7,
        _ => 0,
    };

    static unsafe NativeArg ToNative(in Arg a, ref byte* next)
    {
        var r = new NativeArg { Kind = a.Kind, Aux = a.Aux, I = a.I, D = a.D };
        switch (a.Kind)
        {
            case ArgKind.Tensor:
                r.P = ((Tensor)a.Ref!).Handle;
                break;
            case ArgKind.Generator:
                r.P = ((Generator)a.Ref!).Handle;
                break;
            case ArgKind.IntList:
            {
                var src = (long[])a.Ref!;
                src.AsSpan().CopyTo(new Span<long>(next, src.Length));
                r.P = (nint)next; r.I = src.Length; next += 8 * src.Length;
                break;
            }
            case ArgKind.DoubleList:
            {
                var src = (double[])a.Ref!;
                src.AsSpan().CopyTo(new Span<double>(next, src.Length));
                r.P = (nint)next; r.I = src.Length; next += 8 * src.Length;
                break;
            }
            case ArgKind.BoolList:
            {
                var src = (bool[])a.Ref!;
                for (int j = 0; j < src.Length; j++) next[j] = src[j] ? (byte)1 : (byte)0;
                r.P = (nint)next; r.I = src.Length; next += (src.Length + 7) & ~7;
                break;
            }
            case ArgKind.TensorList when a.Ref is nint[] raw:
                raw.AsSpan(0, (int)a.I).CopyTo(new Span<nint>(next, (int)a.I));
                r.P = (nint)next; next += 8 * a.I;
                break;
            case ArgKind.TensorList:
            case ArgKind.OptTensorList:
            {
                var src = (Tensor?[])a.Ref!;
                var dst = (nint*)next;
                for (int j = 0; j < src.Length; j++)
                {
                    if (src[j] is null && a.Kind == ArgKind.TensorList)
                        throw new ArgumentNullException(null, "a tensor list holds null");
                    dst[j] = src[j]?.Handle ?? 0;
                }
                r.P = (nint)next; r.I = src.Length; next += 8 * src.Length;
                break;
            }
            case ArgKind.String:
            {
                var s = (string)a.Ref!;
                int len = Encoding.UTF8.GetByteCount(s);
                Encoding.UTF8.GetBytes(s, new Span<byte>(next, len));
                r.P = (nint)next; r.I = len; next += (len + 8) & ~7;
                break;
            }
        }
        return r;
    }

    TorchException Error(ReadOnlySpan<Arg> args)
    {
        var native = Native.LastError();
        var parts = new string[args.Length];
        for (int k = 0; k < args.Length; k++) parts[k] = args[k].Describe();
        return new TorchException(FullName, native, string.Join(", ", parts));
    }
}
