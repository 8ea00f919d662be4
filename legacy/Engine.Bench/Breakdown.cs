using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Engine.Interop;
using static Engine.Bench.Harness;

namespace Engine.Bench;

/// <summary>
/// Where the time of one small <c>a + b</c> goes: the same call taken apart layer by layer, from a
/// bare P/Invoke to the public operator, timed round-robin so machine load falls on every row
/// alike. The differences between rows are the cost of each layer. Then the same op through
/// typed, unboxed prototype exports (Engine.Bench/native/proto.cpp, when built) to show what the
/// boxed dispatcher costs. Engine-only: no Python counterpart.
/// </summary>
static unsafe partial class Breakdown
{
    // A plain libc function: the cost of the P/Invoke transition itself.
    [LibraryImport("libc.so.6", EntryPoint = "abs")]
    private static partial int Abs(int x);

    [LibraryImport("libc.so.6", EntryPoint = "abs")]
    [SuppressGCTransition]
    private static partial int AbsNoTransition(int x);

    static volatile int s_sink;

    /// <summary>Short repeats, many of them: the rows differ by tenths of a microsecond, which
    /// only the fastest repeats resolve on a loaded machine (compare "cpu min").</summary>
    public static void Run(Harness h, int n, int repeats = 31)
    {
        using var a = Torch.Ones(8);
        using var b = Torch.Ones(8);
        using var c = Torch.Ones(8);
        var add = Op.Get("aten::add", "Tensor");
        int addId = OpId(add);
        nint ha = a.Handle, hb = b.Handle, hc = c.Handle;

        var args = (NativeArg*)NativeMemory.Alloc(3, (nuint)sizeof(NativeArg));
        args[0] = new NativeArg { Kind = ArgKind.Tensor, P = ha };
        args[1] = new NativeArg { Kind = ArgKind.Tensor, P = hb };
        args[2] = new NativeArg { Kind = ArgKind.Double, D = 1.0 };
        var outs = (NativeArg*)NativeMemory.Alloc(16, (nuint)sizeof(NativeArg));
        var shimOpCall = (delegate* unmanaged<int, NativeArg*, int, NativeArg*, int, int>)ShimExport("eng_op_call");

        var cases = new List<Case>
        {
            new("pinvoke_libc_abs", "breakdown", "P/Invoke to libc abs(): the managed-to-native transition", n * 100, k =>
            {
                int s = 0;
                for (int i = 0; i < k; i++) s += Abs(i);
                s_sink = s;
            }),
            new("pinvoke_libc_abs_nogc", "breakdown", "the same with [SuppressGCTransition] (no GC-mode switch)", n * 100, k =>
            {
                int s = 0;
                for (int i = 0; i < k; i++) s += AbsNoTransition(i);
                s_sink = s;
            }),
            new("shim_grad_enabled", "breakdown", "a trivial shim export (eng_grad_enabled)", n * 100, k =>
            {
                int s = 0;
                for (int i = 0; i < k; i++) s += Native.eng_grad_enabled();
                s_sink = s;
            }),
            new("shim_retain_free", "breakdown", "eng_tensor_retain + eng_tensor_free (2 transitions, 2 atomics)", n * 20, k =>
            {
                for (int i = 0; i < k; i++) Native.eng_tensor_free(Native.eng_tensor_retain(ha));
            }),
            new("gc_alloc_finalizable", "breakdown", "new finalizable object + GC.SuppressFinalize", n * 20, k =>
            {
                for (int i = 0; i < k; i++) GC.SuppressFinalize(new Finalizable());
            }),
            new("gc_alloc_plain", "breakdown", "new plain object (no finalizer): the allocation alone", n * 20, k =>
            {
                object? o = null;
                for (int i = 0; i < k; i++) o = new Plain();
                GC.KeepAlive(o);
            }),
            new("interlocked_pair", "breakdown", "Interlocked.Increment + Decrement (Tensor's live count)", n * 20, k =>
            {
                for (int i = 0; i < k; i++) { Interlocked.Increment(ref s_counter); Interlocked.Decrement(ref s_counter); }
            }),
            new("tensor_wrap_dispose", "breakdown", "retain + new Tensor(h) + Dispose: the managed owner", n * 20, k =>
            {
                for (int i = 0; i < k; i++) new Tensor(Native.eng_tensor_retain(ha)).Dispose();
            }),
            new("tensor_wrap_scope", "breakdown", "retain + new Tensor(h) in a DisposeScope of 100", n * 20, k =>
            {
                for (int i = 0; i < k; i += 100)
                {
                    using var scope = DisposeScope.Begin();
                    int m = Math.Min(100, k - i);
                    for (int j = 0; j < m; j++) _ = new Tensor(Native.eng_tensor_retain(ha));
                }
            }),
            new("shim_op_call_raw", "breakdown", "eng_op_call(add.Tensor, a, b, 1.0) prebuilt args + free", n, k =>
            {
                for (int i = 0; i < k; i++)
                {
                    if (Native.eng_op_call(addId, args, 3, outs, 16) != 1) throw new InvalidOperationException(Native.LastError());
                    Native.eng_tensor_free(outs[0].P);
                }
            }),
            new("shim_op_call_raw_2args", "breakdown", "the same, alpha from the schema default", n, k =>
            {
                for (int i = 0; i < k; i++)
                {
                    if (Native.eng_op_call(addId, args, 2, outs, 16) != 1) throw new InvalidOperationException(Native.LastError());
                    Native.eng_tensor_free(outs[0].P);
                }
            }),
            new("shim_op_call_fnptr", "breakdown", "eng_op_call through a delegate* unmanaged (other transition)", n, k =>
            {
                for (int i = 0; i < k; i++)
                {
                    if (shimOpCall(addId, args, 3, outs, 16) != 1) throw new InvalidOperationException(Native.LastError());
                    Native.eng_tensor_free(outs[0].P);
                }
            }),
            new("shim_op_call_in_try", "breakdown", "the raw call inside try/finally (as Op.Run makes it)", n, k =>
            {
                for (int i = 0; i < k; i++)
                {
                    try
                    {
                        if (Native.eng_op_call(addId, args, 3, outs, 16) != 1) throw new InvalidOperationException(Native.LastError());
                    }
                    finally
                    {
                        s_sink++;
                    }
                    Native.eng_tensor_free(outs[0].P);
                }
            }),
            new("shim_op_call_owner", "breakdown", "the raw call + new Tensor(result).Dispose(): raw + owner", n, k =>
            {
                for (int i = 0; i < k; i++)
                {
                    if (Native.eng_op_call(addId, args, 3, outs, 16) != 1) throw new InvalidOperationException(Native.LastError());
                    new Tensor(outs[0].P).Dispose();
                }
            }),
            new("shim_op_call_plain_obj", "breakdown", "raw call + a plain (non-finalizable) owner object", n, k =>
            {
                object? o = null;
                for (int i = 0; i < k; i++)
                {
                    if (Native.eng_op_call(addId, args, 3, outs, 16) != 1) throw new InvalidOperationException(Native.LastError());
                    o = new Plain { Handle = outs[0].P };
                    Native.eng_tensor_free(outs[0].P);
                }
                GC.KeepAlive(o);
            }),
            new("shim_op_call_finalizable", "breakdown", "raw call + a finalizable owner + SuppressFinalize", n, k =>
            {
                for (int i = 0; i < k; i++)
                {
                    if (Native.eng_op_call(addId, args, 3, outs, 16) != 1) throw new InvalidOperationException(Native.LastError());
                    GC.SuppressFinalize(new Finalizable { Handle = outs[0].P });
                    Native.eng_tensor_free(outs[0].P);
                }
            }),
            new("op_call_resolved", "breakdown", "Op.Call(a, b, 1.0).Dispose(), resolved Op", n, k =>
            {
                for (int i = 0; i < k; i++) add.Call(a, b, 1.0).Dispose();
            }),
            new("op_call_resolved_2args", "breakdown", "Op.Call(a, b).Dispose() (alpha from the schema)", n, k =>
            {
                for (int i = 0; i < k; i++) add.Call(a, b).Dispose();
            }),
            new("add_operator", "breakdown", "using var z = a + b (the public path)", n, k =>
            {
                for (int i = 0; i < k; i++) { using var z = a + b; }
            }),
            new("add_in_scope", "breakdown", "z = a + b in a DisposeScope of 100 (training-step style)", n, k =>
            {
                for (int i = 0; i < k; i += 100)
                {
                    using var scope = DisposeScope.Begin();
                    int m = Math.Min(100, k - i);
                    for (int j = 0; j < m; j++) _ = a + b;
                }
            }),
            new("engine_add_", "breakdown", "c.Add_(b) (engine, for the prototype rows below)", n, k =>
            {
                for (int i = 0; i < k; i++) c.Add_(b);
            }),
            new("engine_mul_scalar", "breakdown", "using var z = a.Mul(2.0) (engine, mul.Scalar)", n, k =>
            {
                for (int i = 0; i < k; i++) { using var z = a.Mul(2.0); }
            }),
        };

        var proto = LoadProto();
        if (proto is { } p)
        {
            cases.AddRange(
            [
                new("proto_add_raw", "breakdown", "typed export at::add(a, b, 1.0) + free, no Tensor owner", n, k =>
                {
                    for (int i = 0; i < k; i++) Native.eng_tensor_free(p.Add(ha, hb, 1.0));
                }),
                new("proto_add", "breakdown", "new Tensor(typed at::add) + Dispose: an unboxed a + b", n, k =>
                {
                    for (int i = 0; i < k; i++) { using var z = new Tensor(p.Add(ha, hb, 1.0)); }
                }),
                new("proto_add_borrowed", "breakdown", "the same, handles viewed as at::Tensor (no refcounts)", n, k =>
                {
                    for (int i = 0; i < k; i++) { using var z = new Tensor(p.AddBorrowed(ha, hb, 1.0)); }
                }),
                new("proto_add_", "breakdown", "typed export c.add_(b)", n, k =>
                {
                    for (int i = 0; i < k; i++) p.AddInPlace(hc, hb, 1.0);
                }),
                new("proto_mul_scalar", "breakdown", "new Tensor(typed at::mul(a, 2.0)) (mul.Scalar) + Dispose", n, k =>
                {
                    for (int i = 0; i < k; i++) { using var z = new Tensor(p.MulScalar(ha, 2.0)); }
                }),
                new("proto_mul_wrapped", "breakdown", "the same via mul.Tensor with a wrapped 0-d scalar (Python's way)", n, k =>
                {
                    for (int i = 0; i < k; i++) { using var z = new Tensor(p.MulWrapped(ha, 2.0)); }
                }),
            ]);
        }
        else
        {
            Console.WriteLine("  (libbench_proto.so not found: set ENGINE_BENCH_PROTO or build Engine.Bench/native; prototype rows skipped)");
        }

        h.MeasureInterleaved(cases, repeats);
        NativeMemory.Free(args);
        NativeMemory.Free(outs);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
    }

    static long s_counter;

    sealed class Plain { public nint Handle; public object? Scope; }

    sealed class Finalizable
    {
        public nint Handle;
        public object? Scope;

        [MethodImpl(MethodImplOptions.NoInlining)]
        ~Finalizable() => s_sink++;
    }

    /// <summary>The resolved operator id (private in Op): read by reflection once, outside the timing.</summary>
    static int OpId(Op op)
    {
        var f = typeof(Op).GetField("_id", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        return (int)f.GetValue(op)!;
    }

    static nint ShimExport(string name)
    {
        Torch.NumThreads.ToString(); // make sure the engine loaded its shim
        var lib = NativeLibrary.Load(Path.Combine(AppContext.BaseDirectory, "libengine_shim.so"));
        return NativeLibrary.GetExport(lib, name);
    }

    readonly struct Proto
    {
        public readonly delegate* unmanaged<nint, nint, double, nint> Add;
        public readonly delegate* unmanaged<nint, nint, double, nint> AddBorrowed;
        public readonly delegate* unmanaged<nint, nint, double, int> AddInPlace;
        public readonly delegate* unmanaged<nint, double, nint> MulScalar;
        public readonly delegate* unmanaged<nint, double, nint> MulWrapped;

        public Proto(nint lib)
        {
            Add = (delegate* unmanaged<nint, nint, double, nint>)NativeLibrary.GetExport(lib, "proto_add");
            AddBorrowed = (delegate* unmanaged<nint, nint, double, nint>)NativeLibrary.GetExport(lib, "proto_add_borrowed");
            AddInPlace = (delegate* unmanaged<nint, nint, double, int>)NativeLibrary.GetExport(lib, "proto_add_");
            MulScalar = (delegate* unmanaged<nint, double, nint>)NativeLibrary.GetExport(lib, "proto_mul_scalar");
            MulWrapped = (delegate* unmanaged<nint, double, nint>)NativeLibrary.GetExport(lib, "proto_mul_wrapped");
        }
    }

    static Proto? LoadProto()
    {
        var candidates = new[]
        {
            Environment.GetEnvironmentVariable("ENGINE_BENCH_PROTO"),
            Path.Combine(AppContext.BaseDirectory, "../../../native/build/libbench_proto.so"),
        };
        foreach (var path in candidates)
        {
            if (string.IsNullOrEmpty(path) || !File.Exists(path)) continue;
            if (NativeLibrary.TryLoad(Path.GetFullPath(path), out var lib)) return new Proto(lib);
        }
        return null;
    }
}
