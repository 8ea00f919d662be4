using Engine.Optim;
using static Engine.Distributed.NcclNative;

namespace Engine.Distributed;

/// <summary>
/// One rank's NCCL communicator: collectives over CUDA tensors, in place, on the GPU, between
/// <see cref="WorldSize"/> processes (one GPU each).
/// </summary>
/// <remarks>
/// <para>Rendezvous: rank 0 calls <see cref="GetUniqueId"/>, the 128 bytes reach every rank by
/// another channel (the MPI process group broadcasts them), and every rank calls
/// <see cref="Create"/> with the same bytes, its rank and its GPU. Create blocks until all
/// <c>worldSize</c> ranks have joined.</para>
/// <para>Semantics (x_r is rank r's tensor): <see cref="AllReduce"/> leaves op_r(x_r) in every
/// rank's tensor; <see cref="Broadcast"/> copies the root's tensor into everyone's;
/// <see cref="AllGather"/> writes rank r's input at elements [r·n, (r+1)·n) of every output;
/// <see cref="ReduceScatter"/> leaves block r of op_r'(x_r') (blocks of output.numel() elements)
/// in rank r's output. Every rank must make the same calls in the same order with the same
/// element counts and dtypes.</para>
/// <para>Ordering without host syncs: every call is enqueued on CUDA stream 0, the legacy default
/// stream. TorchSharp issues all libtorch kernels on libtorch's default stream, which is that
/// same null stream (c10/cuda/CUDAStream.cpp: <c>CUDAStream::stream()</c> returns <c>nullptr</c> for
/// the default stream), so NCCL's kernels run after the kernels that produced the tensor and
/// before any later kernel that reads it; the calls return once enqueued. Each call first sets
/// the calling thread's CUDA device to <see cref="CudaDevice"/> (cudaSetDevice, no sync).</para>
/// <para>Errors: every bad argument raises an <see cref="ArgumentException"/> that names the call,
/// the shapes, dtype and device, and what was expected, before any native call. A failed NCCL
/// call raises <see cref="DistributedException"/> (<see cref="DistributedTimeoutException"/> for
/// ncclTimeout) with ncclGetErrorString and ncclGetLastError's text; the communicator is then
/// unusable and <see cref="Dispose"/> aborts it (ncclCommAbort) instead of destroying it.</para>
/// <para>One thread at a time per communicator. Writes go straight to the tensors' memory, past
/// autograd: reduce gradients (or tensors that do not require grad), not graph inputs.</para>
/// <para>UNTESTED ON A GPU: the session that wrote this had no CUDA device and no libnccl. What
/// is tested: the managed checks, the missing-library path, and the marshalling of every entry
/// point against a fake libnccl built from nccl.h's declarations (host memory, one process).</para>
/// </remarks>
public sealed unsafe class NcclCommunicator : IDisposable
{
    readonly Api? api;
    IntPtr comm;
    bool disposed;
    string? failure;
    int groupDepth;
    List<Tensor>? divideAfterGroup;

    /// <summary>This process's rank, 0 ≤ Rank &lt; WorldSize.</summary>
    public int Rank { get; }

    /// <summary>The number of ranks (processes, one GPU each).</summary>
    public int WorldSize { get; }

    /// <summary>The CUDA device index this communicator's tensors must live on.</summary>
    public int CudaDevice { get; }

    /// <summary>Tests only: accept CPU tensors (their host pointers go to a fake libnccl).</summary>
    internal bool AllowHostPointersForTests { get; }

    internal NcclCommunicator(Api? api, IntPtr comm, int rank, int worldSize, int cudaDevice, bool allowHostPointersForTests)
    {
        this.api = api;
        this.comm = comm;
        Rank = rank;
        WorldSize = worldSize;
        CudaDevice = cudaDevice;
        AllowHostPointersForTests = allowHostPointersForTests;
    }

    /// <summary>A new NCCL unique id (ncclGetUniqueId): 128 opaque bytes naming the
    /// communicator about to be created. Call it on rank 0 only and send the bytes to every rank.</summary>
    public static byte[] GetUniqueId()
    {
        var lib = Require("NcclCommunicator.GetUniqueId");
        UniqueId id;
        int r = lib.GetUniqueId(&id);
        if (r != Success)
            throw new DistributedException($"NcclCommunicator.GetUniqueId: ncclGetUniqueId failed: {lib.Describe(r, IntPtr.Zero)}.");
        return new ReadOnlySpan<byte>(id.Internal, UniqueId.Bytes).ToArray();
    }

    /// <summary>Joins the communicator named by <paramref name="uniqueId"/> as
    /// <paramref name="rank"/> of <paramref name="worldSize"/>, on GPU
    /// <paramref name="cudaDevice"/> (ncclCommInitRank). Blocks until every rank has joined.</summary>
    public static NcclCommunicator Create(int rank, int worldSize, byte[] uniqueId, int cudaDevice) =>
        CreateCore(rank, worldSize, uniqueId, cudaDevice, allowHostPointersForTests: false);

    internal static NcclCommunicator CreateCore(int rank, int worldSize, byte[] uniqueId, int cudaDevice, bool allowHostPointersForTests)
    {
        const string call = "NcclCommunicator.Create";
        if (worldSize < 1)
            throw new ArgumentOutOfRangeException(nameof(worldSize), worldSize, $"{call}: worldSize must be at least 1, got {worldSize}.");
        if (rank < 0 || rank >= worldSize)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"{call}: rank must be in [0, {worldSize}) for worldSize {worldSize}, got {rank}.");
        ArgumentNullException.ThrowIfNull(uniqueId);
        if (uniqueId.Length != UniqueId.Bytes)
            throw new ArgumentException($"{call}: uniqueId must be the {UniqueId.Bytes} bytes rank 0 got from GetUniqueId, got {uniqueId.Length} bytes.", nameof(uniqueId));
        if (cudaDevice < 0)
            throw new ArgumentOutOfRangeException(nameof(cudaDevice), cudaDevice, $"{call}: cudaDevice must be a CUDA device index (0 or more), got {cudaDevice}.");

        var lib = Require(call);
        if (!allowHostPointersForTests)
        {
            int devices = cuda.device_count();
            if (cudaDevice >= devices)
                throw new ArgumentOutOfRangeException(nameof(cudaDevice), cudaDevice,
                    $"{call}: cudaDevice {cudaDevice} does not exist: libtorch sees {devices} CUDA device(s) (a TorchSharp-cpu build sees none; NCCL needs a CUDA build of TorchSharp).");
        }
        RequireCudaRuntime(call).Select(cudaDevice, call);

        UniqueId id;
        uniqueId.CopyTo(new Span<byte>(id.Internal, UniqueId.Bytes));
        IntPtr handle = IntPtr.Zero;
        int r = lib.CommInitRank(&handle, worldSize, id, rank);
        if (r != Success)
        {
            string msg = $"{call}: ncclCommInitRank(rank {rank} of {worldSize}, cuda:{cudaDevice}) failed: {lib.Describe(r, handle)}.";
            if (handle != IntPtr.Zero) lib.CommAbort(handle);
            throw r == NcclNative.Timeout ? new DistributedTimeoutException(msg) : new DistributedException(msg);
        }
        return new NcclCommunicator(lib, handle, rank, worldSize, cudaDevice, allowHostPointersForTests);
    }

    /// <summary>In place: <paramref name="tensor"/> ← op over ranks of every rank's tensor
    /// (ncclAllReduce). <see cref="ReduceOp.Average"/> (floating dtypes only) is ncclAvg on NCCL
    /// 2.10 and later, else ncclSum followed by tensor /= WorldSize.</summary>
    public void AllReduce(Tensor tensor, ReduceOp op)
    {
        const string call = "NcclCommunicator.AllReduce";
        ThrowIfDisposed(call);
        int dtype = CheckTensor(call, nameof(tensor), tensor);
        CheckOp(call, op, tensor);
        var lib = Usable(call);
        CheckBfloat16(call, lib, dtype, tensor);
        if (tensor.numel() == 0) return;
        SelectDevice(call);
        nint p = NativeTensor.Data(tensor);
        int r = lib.AllReduce(p, p, (nuint)tensor.numel(), dtype, NcclOp(lib, op), comm, IntPtr.Zero);
        if (r != Success) Fail(call, "ncclAllReduce", r, lib);
        if (op == ReduceOp.Average && !lib.SupportsAvgAndBfloat16) DivideByWorldSize(tensor);
        GC.KeepAlive(tensor);
    }

    /// <summary>In place: every rank's <paramref name="tensor"/> ← rank <paramref name="root"/>'s
    /// (ncclBroadcast with send = receive buffer).</summary>
    public void Broadcast(Tensor tensor, int root)
    {
        const string call = "NcclCommunicator.Broadcast";
        ThrowIfDisposed(call);
        int dtype = CheckTensor(call, nameof(tensor), tensor);
        if (root < 0 || root >= WorldSize)
            throw new ArgumentOutOfRangeException(nameof(root), root, $"{call}: root must be a rank in [0, {WorldSize}), got {root}.");
        var lib = Usable(call);
        CheckBfloat16(call, lib, dtype, tensor);
        if (tensor.numel() == 0) return;
        SelectDevice(call);
        nint p = NativeTensor.Data(tensor);
        int r = lib.Broadcast(p, p, (nuint)tensor.numel(), dtype, root, comm, IntPtr.Zero);
        if (r != Success) Fail(call, "ncclBroadcast", r, lib);
        GC.KeepAlive(tensor);
    }

    /// <summary><paramref name="output"/> (WorldSize × input.numel() elements, any shape) ←
    /// the ranks' inputs concatenated in rank order, flat (ncclAllGather). Rank r's input lands
    /// at elements [r·n, (r+1)·n). In place when input is exactly that slice of output.</summary>
    public void AllGather(Tensor input, Tensor output)
    {
        const string call = "NcclCommunicator.AllGather";
        ThrowIfDisposed(call);
        int dtype = CheckTensor(call, nameof(input), input);
        CheckTensor(call, nameof(output), output);
        CheckSameDtype(call, input, output);
        long n = input.numel();
        if (output.numel() != WorldSize * n)
            throw new ArgumentException(
                $"{call}: output must hold WorldSize × input.numel() = {WorldSize} × {n} = {WorldSize * n} elements (e.g. shape [{WorldSize * n}] or [{WorldSize}, {string.Join(", ", input.shape)}]); " +
                $"got output {Describe(output)} ({output.numel()} elements) for input {Describe(input)}.", nameof(output));
        nint send = NativeTensor.Data(input), recv = NativeTensor.Data(output);
        long es = input.element_size();
        if (n > 0) CheckOverlap(call, send, n * es, recv, WorldSize * n * es, inPlace: send == recv + Rank * n * es, "input", "output", "output[Rank·n, (Rank+1)·n)");
        var lib = Usable(call);
        CheckBfloat16(call, lib, dtype, input);
        if (n == 0) return;
        SelectDevice(call);
        int r = lib.AllGather(send, recv, (nuint)n, dtype, comm, IntPtr.Zero);
        if (r != Success) Fail(call, "ncclAllGather", r, lib);
        GC.KeepAlive(input);
        GC.KeepAlive(output);
    }

    /// <summary><paramref name="output"/> (n elements) ← block <see cref="Rank"/> (elements
    /// [Rank·n, (Rank+1)·n)) of op over ranks of every rank's <paramref name="input"/>
    /// (WorldSize × n elements) (ncclReduceScatter). Average as in <see cref="AllReduce"/>.</summary>
    public void ReduceScatter(Tensor input, Tensor output, ReduceOp op)
    {
        const string call = "NcclCommunicator.ReduceScatter";
        ThrowIfDisposed(call);
        int dtype = CheckTensor(call, nameof(input), input);
        CheckTensor(call, nameof(output), output);
        CheckSameDtype(call, input, output);
        CheckOp(call, op, input);
        long n = output.numel();
        if (input.numel() != WorldSize * n)
            throw new ArgumentException(
                $"{call}: input must hold WorldSize × output.numel() = {WorldSize} × {n} = {WorldSize * n} elements; " +
                $"got input {Describe(input)} ({input.numel()} elements) for output {Describe(output)}.", nameof(input));
        nint send = NativeTensor.Data(input), recv = NativeTensor.Data(output);
        long es = input.element_size();
        if (n > 0) CheckOverlap(call, recv, n * es, send, WorldSize * n * es, inPlace: recv == send + Rank * n * es, "output", "input", "input[Rank·n, (Rank+1)·n)");
        var lib = Usable(call);
        CheckBfloat16(call, lib, dtype, input);
        if (n == 0) return;
        SelectDevice(call);
        int r = lib.ReduceScatter(send, recv, (nuint)n, dtype, NcclOp(lib, op), comm, IntPtr.Zero);
        if (r != Success) Fail(call, "ncclReduceScatter", r, lib);
        if (op == ReduceOp.Average && !lib.SupportsAvgAndBfloat16) DivideByWorldSize(output);
        GC.KeepAlive(input);
        GC.KeepAlive(output);
    }

    /// <summary>Runs <paramref name="body"/> between ncclGroupStart and ncclGroupEnd, so NCCL
    /// fuses the collectives issued inside into one launch (many small gradient all-reduces).
    /// The collectives run at ncclGroupEnd: read their results after Group returns. ncclGroupEnd
    /// runs even when the body throws, then the body's exception propagates. Groups nest.</summary>
    public void Group(Action body)
    {
        const string call = "NcclCommunicator.Group";
        ThrowIfDisposed(call);
        ArgumentNullException.ThrowIfNull(body);
        var lib = Usable(call);
        SelectDevice(call);
        int r = lib.GroupStart();
        if (r != Success) Fail(call, "ncclGroupStart", r, lib);
        groupDepth++;
        try
        {
            body();
        }
        finally
        {
            groupDepth--;
            r = lib.GroupEnd();
            // Average before NCCL 2.10 is a sum then a division, which must wait for the sum.
            if (groupDepth == 0 && divideAfterGroup is { } pending)
            {
                divideAfterGroup = null;
                if (r == Success) foreach (var t in pending) t.div_(WorldSize);
            }
        }
        if (r != Success) Fail(call, "ncclGroupEnd", r, lib);
    }

    /// <summary>Throws if NCCL reported an asynchronous error on this communicator
    /// (ncclCommGetAsyncError): a peer died or a network failure broke a collective. Cheap; call it
    /// from a watchdog or before a checkpoint.</summary>
    public void CheckAsyncError()
    {
        const string call = "NcclCommunicator.CheckAsyncError";
        ThrowIfDisposed(call);
        var lib = Usable(call);
        int asyncError = Success;
        int r = lib.CommGetAsyncError(comm, &asyncError);
        if (r != Success) Fail(call, "ncclCommGetAsyncError", r, lib);
        if (asyncError != Success) Fail(call, "an earlier collective (asynchronous error)", asyncError, lib);
    }

    /// <summary>Frees the communicator: ncclCommDestroy, or ncclCommAbort when a call failed or
    /// NCCL reports an asynchronous error (destroy would wait for work that cannot finish).
    /// Never throws. Every rank should dispose its communicator; there is no finalizer.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        IntPtr c = comm;
        comm = IntPtr.Zero;
        if (api is null || c == IntPtr.Zero) return;
        int asyncError = Success;
        bool abort = failure is not null || api.CommGetAsyncError(c, &asyncError) != Success || asyncError != Success;
        _ = abort ? api.CommAbort(c) : api.CommDestroy(c);
    }

    // ---- checks made before any native call ----

    void ThrowIfDisposed(string call)
    {
        if (disposed) throw new ObjectDisposedException(nameof(NcclCommunicator), $"{call}: this communicator (rank {Rank} of {WorldSize}) was disposed.");
    }

    Api Usable(string call)
    {
        if (api is null) throw new NcclUnavailableException($"{call}: {Reason ?? "this communicator has no NCCL library."}");
        if (failure is not null)
            throw new DistributedException($"{call}: this communicator failed earlier and cannot be used: {failure} Dispose it (that aborts it) and create a new one.");
        return api;
    }

    int CheckTensor(string call, string role, Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t, role);
        bool hostForTests = AllowHostPointersForTests && t.device_type == DeviceType.CPU;
        if (!hostForTests && (t.device_type != DeviceType.CUDA || t.device_index != CudaDevice))
            throw new ArgumentException($"{call}: {role} must be a CUDA tensor on cuda:{CudaDevice} (this communicator's device); got {Describe(t)}.", role);
        if (!t.is_contiguous())
            throw new ArgumentException($"{call}: {role} must be contiguous (NCCL reads and writes one dense buffer); got {Describe(t)} with strides [{string.Join(", ", t.stride())}]. Pass t.contiguous() and copy the result back.", role);
        int dtype = DataType(t.dtype);
        if (dtype < 0)
            throw new ArgumentException($"{call}: {role} has dtype {t.dtype}, which NCCL does not carry; supported: Float32, Float64, Float16, BFloat16, Int32, Int64, Byte (uint8), Int8. Got {Describe(t)}.", role);
        return dtype;
    }

    static void CheckBfloat16(string call, Api lib, int dtype, Tensor t)
    {
        if (dtype == Bfloat16 && !lib.SupportsAvgAndBfloat16)
            throw new ArgumentException($"{call}: BFloat16 needs NCCL {AvgAndBfloat16Since} or later (ncclBfloat16); the loaded NCCL is {lib.Version}. Got {Describe(t)}; convert to Float32 or use a newer NCCL.");
    }

    static void CheckSameDtype(string call, Tensor input, Tensor output)
    {
        if (input.dtype != output.dtype)
            throw new ArgumentException($"{call}: input and output must have the same dtype; got input {Describe(input)} and output {Describe(output)}.", nameof(output));
    }

    static void CheckOp(string call, ReduceOp op, Tensor t)
    {
        if (!Enum.IsDefined(op))
            throw new ArgumentOutOfRangeException(nameof(op), op, $"{call}: unknown ReduceOp {(int)op}.");
        if (op == ReduceOp.Average && !t.is_floating_point())
            throw new ArgumentException($"{call}: ReduceOp.Average needs a floating dtype (an integer mean would truncate); got {Describe(t)}. Reduce with Sum and divide, or convert first.", nameof(op));
    }

    /// <summary>NCCL's buffers may coincide only in its in-place layout; any other overlap is
    /// undefined behaviour in NCCL, so it is refused here. Extents are in bytes.</summary>
    static void CheckOverlap(string call, nint small, long smallBytes, nint big, long bigBytes, bool inPlace, string smallName, string bigName, string inPlaceSlice)
    {
        if (inPlace) return;
        if ((long)small < (long)big + bigBytes && (long)big < (long)small + smallBytes)
            throw new ArgumentException($"{call}: {smallName} and {bigName} overlap in memory; NCCL allows that only when {smallName} is exactly {inPlaceSlice}. Use separate tensors.", smallName);
    }

    void Fail(string call, string ncclCall, int result, Api lib)
    {
        string msg = $"{call}: {ncclCall} failed on rank {Rank} of {WorldSize} (cuda:{CudaDevice}): {lib.Describe(result, comm)}.";
        failure ??= msg;
        throw result == NcclNative.Timeout ? new DistributedTimeoutException(msg) : new DistributedException(msg);
    }

    void DivideByWorldSize(Tensor t)
    {
        if (groupDepth > 0) (divideAfterGroup ??= []).Add(t);
        else t.div_(WorldSize);
    }

    void SelectDevice(string call)
    {
        // With host pointers for tests the fake library stands in for libcudart too.
        RequireCudaRuntime(call).Select(CudaDevice, call);
    }

    /// <summary>TorchSharp dtype → ncclDataType_t (nccl.h values, see NcclNative), or -1.</summary>
    internal static int DataType(ScalarType t) => t switch
    {
        ScalarType.Int8 => NcclNative.Int8,
        ScalarType.Byte => Uint8,
        ScalarType.Int32 => NcclNative.Int32,
        ScalarType.Int64 => NcclNative.Int64,
        ScalarType.Float16 => Float16,
        ScalarType.Float32 => Float32,
        ScalarType.Float64 => Float64,
        ScalarType.BFloat16 => Bfloat16,
        _ => -1,
    };

    /// <summary>ReduceOp → ncclRedOp_t; Average is ncclAvg from NCCL 2.10, else ncclSum (the
    /// caller then divides by WorldSize).</summary>
    internal static int NcclOp(Api lib, ReduceOp op) => op switch
    {
        ReduceOp.Sum => NcclNative.Sum,
        ReduceOp.Product => Prod,
        ReduceOp.Max => NcclNative.Max,
        ReduceOp.Min => NcclNative.Min,
        ReduceOp.Average => lib.SupportsAvgAndBfloat16 ? Avg : NcclNative.Sum,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown ReduceOp"),
    };

    static string Describe(Tensor t) => $"shape [{string.Join(", ", t.shape)}], dtype {t.dtype}, device {t.device}";
}
