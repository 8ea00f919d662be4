using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Engine.Distributed;

/// <summary>
/// The ranks of one data-parallel job and the collectives between them (torch.distributed's
/// process group, Horovod's design): processes are started by <c>mpirun</c>
/// (<c>scripts/launch.sh N command</c>), MPI carries CPU tensors, and CUDA tensors go through NCCL.
/// Every collective works on TorchSharp tensors in place or returns a new one:
/// <code>
/// AllReduce(t, op)      t ← op over ranks of t            (Sum, Average = Sum / WorldSize, Max, Min, Product)
/// Broadcast(t, root)    t ← t of rank root
/// AllGather(t)          [WorldSize, …t.shape]: row r is rank r's t
/// ReduceScatter(t, op)  t is [WorldSize·k, …]; rank r gets rows [r·k, (r+1)·k) of op over ranks of t
/// Barrier()             returns once every rank has called it
/// </code>
/// <para><b>Checked calls.</b> Before each collective the ranks exchange a small signature (call,
/// sequence number, dtype, shape, op, root) point to point and compare it, so a rank that calls
/// another collective, or passes another shape or dtype, makes every rank throw a
/// <see cref="DistributedException"/> naming both ranks' calls, instead of MPI mixing buffers of
/// different sizes (garbage or a crash) or hanging. It costs 2(n−1) tiny messages per call; turn
/// <see cref="CheckCollectives"/> off once a fixed pattern (a training step) is known to agree.</para>
/// <para><b>Timeouts.</b> Every wait polls MPI's nonblocking requests against
/// <see cref="Timeout"/> (default 10 min, or <c>ENGINE_DIST_TIMEOUT</c> seconds): a rank that died
/// or stopped answering makes the others throw a <see cref="DistributedTimeoutException"/> naming
/// the call and, for the signature exchange, the silent ranks. The group is unusable after a
/// timeout or an MPI error (MPI's state is undefined): end the process; a job restarted from its
/// last checkpoint continues (mpirun itself ends the job when a rank exits abnormally).</para>
/// <para><b>CUDA tensors</b> go through NCCL (<see cref="NcclCommunicator"/>, made at the first
/// CUDA collective on the tensor's GPU, its unique id broadcast over MPI): the same calls, checked
/// the same way over MPI, enqueued on libtorch's default stream so they need no host sync (an
/// async all-reduce is complete as far as the host is concerned; the stream orders the rest). A
/// stuck NCCL peer blocks the stream, not the host: the next host read waits on it, and no
/// timeout applies there (PyTorch's NCCL watchdog thread is not reproduced). This path has run
/// only against a fake libnccl in the tests; no GPU was available to this project's CI.</para>
/// <para>One group per process (MPI is initialized once); <see cref="Dispose"/> finalizes MPI.</para>
/// </summary>
public sealed unsafe partial class ProcessGroup : IDisposable
{
    const long Magic = 0x454E47494E45; // "ENGINE": tells a signature from stray bytes
    const int SignatureLength = 16, MaxDims = SignatureLength - 6;
    const int MaxTag = 32767; // the MPI standard's minimum MPI_TAG_UB

    static ProcessGroup? _current;
    static readonly object InitGate = new();

    readonly object _gate = new();
    readonly IntPtr _comm, _control;
    readonly long* _signature, _signatures;
    readonly IntPtr[] _signatureRequests;
    readonly Work _internal = new();
    NcclCommunicator? _nccl;
    long _sequence;
    string? _fault;
    bool _finalizable = true; // false once a collective was abandoned: MPI_Finalize would wait on it
    bool _disposed;

    /// <summary>This process's rank in [0, <see cref="WorldSize"/>).</summary>
    public int Rank { get; }
    /// <summary>The number of ranks.</summary>
    public int WorldSize { get; }
    /// <summary>The rank among the processes on this machine (the GPU it should use).</summary>
    public int LocalRank { get; }
    /// <summary>The number of ranks on this machine.</summary>
    public int LocalWorldSize { get; }
    /// <summary>Rank 0: the one that writes checkpoints, logs and progress.</summary>
    public bool IsMain => Rank == 0;
    /// <summary>How long a collective may wait for the other ranks before it throws.</summary>
    public TimeSpan Timeout { get; set; }
    /// <summary>Whether each collective first checks that every rank makes the same call (see the class summary).</summary>
    public bool CheckCollectives { get; set; } = true;
    /// <summary>The MPI library's version line.</summary>
    public string LibraryVersion { get; }

    /// <summary>The group this process initialized, or null.</summary>
    public static ProcessGroup? Current => _current;

    /// <summary>
    /// Starts MPI (once per process) and returns the group of every rank <c>mpirun</c> started; a
    /// process started without a launcher is a group of one. Throws a clear
    /// <see cref="DistributedException"/> when Open MPI is missing, or when a torchrun-style
    /// environment claims more ranks than MPI has (the ranks were not started by mpirun).
    /// </summary>
    /// <param name="timeout">See <see cref="Timeout"/>; null: <c>ENGINE_DIST_TIMEOUT</c> seconds or 10 minutes.</param>
    public static ProcessGroup Init(TimeSpan? timeout = null)
    {
        lock (InitGate)
        {
            if (_current is { _disposed: false } g) return g;
            if (_current is not null) throw new DistributedException("ProcessGroup.Init: MPI was finalized by an earlier group's Dispose and cannot be initialized again in this process");
            var launch = LaunchEnvironment.Current;
            Mpi.Load();
            return _current = new ProcessGroup(launch, timeout ?? DefaultTimeout());
        }
    }

    static TimeSpan DefaultTimeout()
    {
        var text = Environment.GetEnvironmentVariable("ENGINE_DIST_TIMEOUT");
        if (text is null) return TimeSpan.FromMinutes(10);
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double s) || !(s > 0))
            throw new DistributedException($"ProcessGroup.Init: ENGINE_DIST_TIMEOUT='{text}' is not a positive number of seconds");
        return TimeSpan.FromSeconds(s);
    }

    ProcessGroup(LaunchEnvironment launch, TimeSpan timeout)
    {
        if (!(timeout > TimeSpan.Zero)) throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "ProcessGroup.Init: the timeout must be positive");
        int flag = 0;
        Mpi.Check(Mpi.Initialized(&flag), "MPI_Initialized");
        if (flag == 0)
        {
            int provided = 0;
            Mpi.Check(Mpi.InitThread(IntPtr.Zero, IntPtr.Zero, Mpi.ThreadSerialized, &provided), "MPI_Init_thread");
        }
        // Errors come back as codes (then exceptions) instead of aborting the job.
        Mpi.Check(Mpi.CommSetErrhandler(Mpi.CommWorld, Mpi.ErrorsReturn), "MPI_Comm_set_errhandler");
        IntPtr comm, control;
        // Own communicators: a user's MPI traffic on MPI_COMM_WORLD never matches Engine's.
        Mpi.Check(Mpi.CommDup(Mpi.CommWorld, &comm), "MPI_Comm_dup");
        Mpi.Check(Mpi.CommDup(Mpi.CommWorld, &control), "MPI_Comm_dup");
        _comm = comm;
        _control = control;
        int rank = 0, size = 0;
        Mpi.Check(Mpi.CommRank(_comm, &rank), "MPI_Comm_rank");
        Mpi.Check(Mpi.CommSize(_comm, &size), "MPI_Comm_size");
        Rank = rank;
        WorldSize = size;
        if (launch.WorldSize != size || launch.Rank != rank)
        {
            Mpi.Finalize();
            throw new DistributedException(
                $"ProcessGroup.Init: the {launch.Launcher} environment says rank {launch.Rank} of {launch.WorldSize}, but MPI has rank {rank} of {size}: " +
                "start the ranks with mpirun (scripts/launch.sh N <command>); torchrun's rendezvous is not a transport Engine uses");
        }
        LocalRank = launch.LocalRank;
        LocalWorldSize = launch.LocalWorldSize;
        Timeout = timeout;
        LibraryVersion = Mpi.LibraryVersion();
        _signature = (long*)NativeMemory.AllocZeroed(SignatureLength, sizeof(long));
        _signatures = (long*)NativeMemory.AllocZeroed((nuint)(SignatureLength * size), sizeof(long));
        _signatureRequests = GC.AllocateArray<IntPtr>(2 * Math.Max(0, size - 1), pinned: true);
    }

    // ---------------------------------------------------------------- collectives

    /// <summary>Reduces <paramref name="tensor"/> over every rank, in place, and waits.</summary>
    public void AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) => Wait(StartAllReduce(tensor, op, _internal, "AllReduce"));

    /// <summary>Starts <see cref="AllReduce"/> and returns at once (the signature check, when on,
    /// runs before). Wait on the result before reading or freeing the tensor.</summary>
    public Work AllReduceAsync(Tensor tensor, ReduceOp op = ReduceOp.Sum, Work? reuse = null) =>
        StartAllReduce(tensor, op, reuse ?? new Work(), "AllReduceAsync");

    /// <summary>Overwrites <paramref name="tensor"/> on every rank with rank <paramref name="root"/>'s.</summary>
    public void Broadcast(Tensor tensor, int root = 0)
    {
        const string call = "Broadcast";
        ArgumentNullException.ThrowIfNull(tensor);
        CheckRoot(root, call);
        if (IsCuda(tensor, call))
        {
            Agree(call, tensor, (int)CallCode.Broadcast, root);
            NcclFor(tensor, call).Broadcast(tensor, root);
            return;
        }
        var (type, scale) = Transfer(tensor, call, null);
        Agree(call, tensor, (int)CallCode.Broadcast, root);
        var work = Begin(_internal, call, tensor, 1);
        lock (_gate)
            for (int i = 0, n = ChunkCount(tensor, scale); i < n; i++)
            {
                var (ptr, count) = Chunk(tensor, scale, i);
                Post(work, Mpi.Ibcast(ptr, count, type, root, _comm, Slot(work)), "MPI_Ibcast");
            }
        Wait(work);
    }

    /// <summary>Every rank's <paramref name="tensor"/> (same shape and dtype on every rank), stacked:
    /// a new tensor of shape [WorldSize, …tensor.shape] on the tensor's device.</summary>
    public Tensor AllGather(Tensor tensor)
    {
        const string call = "AllGather";
        ArgumentNullException.ThrowIfNull(tensor);
        if (IsCuda(tensor, call))
        {
            Agree(call, tensor, (int)CallCode.AllGather, 0);
            var gathered = empty([WorldSize, .. tensor.shape], tensor.dtype, tensor.device);
            NcclFor(tensor, call).AllGather(tensor, gathered);
            return gathered;
        }
        var (type, scale) = Transfer(tensor, call, null);
        long count = tensor.numel() * scale;
        if (count > int.MaxValue) throw new ArgumentException($"ProcessGroup.{call}: {count} elements per rank exceed MPI's int count; gather smaller pieces");
        Agree(call, tensor, (int)CallCode.AllGather, 0);
        var output = empty([WorldSize, .. tensor.shape], tensor.dtype, tensor.device);
        var work = Begin(_internal, call, output, 1);
        lock (_gate)
            Post(work, Mpi.Iallgather(Data(tensor), (int)count, type, Data(output), (int)count, type, _comm, Slot(work)), "MPI_Iallgather");
        Wait(work);
        return output;
    }

    /// <summary>Reduces <paramref name="tensor"/> (shape [WorldSize·k, …], equal on every rank)
    /// over the ranks and returns this rank's block of k rows: a new tensor [k, …].</summary>
    public Tensor ReduceScatter(Tensor tensor, ReduceOp op = ReduceOp.Sum)
    {
        const string call = "ReduceScatter";
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.dim() == 0 || tensor.shape[0] % WorldSize != 0)
            throw new ArgumentException($"ProcessGroup.{call}: the input's first dimension must be a multiple of the world size {WorldSize}, got shape [{string.Join(", ", tensor.shape)}]");
        if (IsCuda(tensor, call))
        {
            Agree(call, tensor, (int)CallCode.ReduceScatter, (int)op);
            var block = empty([tensor.shape[0] / WorldSize, .. tensor.shape.Skip(1)], tensor.dtype, tensor.device);
            NcclFor(tensor, call).ReduceScatter(tensor, block, op);
            return block;
        }
        var (type, _) = Transfer(tensor, call, op);
        long count = tensor.numel() / WorldSize;
        if (count > int.MaxValue) throw new ArgumentException($"ProcessGroup.{call}: {count} elements per rank exceed MPI's int count; scatter smaller pieces");
        Agree(call, tensor, (int)CallCode.ReduceScatter, (int)op);
        var output = empty([tensor.shape[0] / WorldSize, .. tensor.shape.Skip(1)], tensor.dtype, tensor.device);
        var work = Begin(_internal, call, output, op == ReduceOp.Average ? WorldSize : 1);
        lock (_gate)
            Post(work, Mpi.IreduceScatterBlock(Data(tensor), Data(output), (int)count, type, OpHandle(op), _comm, Slot(work)), "MPI_Ireduce_scatter_block");
        Wait(work);
        return output;
    }

    /// <summary>Returns once every rank has called Barrier (or throws after <see cref="Timeout"/>).</summary>
    public void Barrier()
    {
        const string call = "Barrier";
        Agree(call, null, (int)CallCode.Barrier, 0);
        var work = Begin(_internal, call, null, 1);
        lock (_gate) Post(work, Mpi.Ibarrier(_comm, Slot(work)), "MPI_Ibarrier");
        Wait(work);
    }

    /// <summary>Rank <paramref name="root"/>'s bytes on every rank (other ranks' <paramref name="data"/>
    /// is ignored and may be null): for small host values such as NCCL's unique id or a seed.</summary>
    public byte[] BroadcastBytes(byte[]? data, int root = 0)
    {
        CheckRoot(root, "BroadcastBytes");
        if (Rank == root) ArgumentNullException.ThrowIfNull(data);
        using var length = tensor(new long[] { Rank == root ? data!.Length : 0 });
        Broadcast(length, root);
        using var bytes = Rank == root ? tensor(data!) : zeros(length.item<long>(), ScalarType.Byte);
        Broadcast(bytes, root);
        return bytes.data<byte>().ToArray();
    }

    /// <summary>Ends every rank of the job now (MPI_Abort): for a fault the caller cannot recover from.</summary>
    public void Abort(int errorCode = 1)
    {
        Mpi.Abort(Mpi.CommWorld, errorCode);
    }

    Work StartAllReduce(Tensor tensor, ReduceOp op, Work work, string call)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (IsCuda(tensor, call))
        {
            Agree(call, tensor, (int)CallCode.AllReduce, (int)op);
            Begin(work, call, null, 1); // enqueued on the CUDA stream: nothing for the host to wait on
            NcclFor(tensor, call).AllReduce(tensor, op);
            return work;
        }
        var (type, scale) = Transfer(tensor, call, op);
        Agree(call, tensor, (int)CallCode.AllReduce, (int)op);
        Begin(work, call, tensor, op == ReduceOp.Average ? WorldSize : 1);
        var handle = OpHandle(op);
        lock (_gate)
            for (int i = 0, n = ChunkCount(tensor, scale); i < n; i++)
            {
                var (ptr, count) = Chunk(tensor, scale, i);
                Post(work, Mpi.Iallreduce(Mpi.InPlace, ptr, count, type, handle, _comm, Slot(work)), "MPI_Iallreduce");
            }
        return work;
    }

    enum CallCode { AllReduce = 1, Broadcast, AllGather, ReduceScatter, Barrier }

    // ---------------------------------------------------------------- requests and waiting

    Work Begin(Work work, string call, Tensor? tensor, double divideBy)
    {
        if (work.Group is not null && work.Count > 0) throw new InvalidOperationException($"ProcessGroup.{call}: the Work passed for reuse is still in flight ({work.Call}); Wait on it first");
        work.Group = this;
        work.Count = 0;
        work.Tensor = tensor;
        work.DivideBy = divideBy;
        work.Call = call;
        work.Sequence = _sequence;
        work.Started = Stopwatch.GetTimestamp();
        return work;
    }

    static IntPtr* Slot(Work work)
    {
        if (work.Count >= Work.MaxRequests) throw new DistributedException($"ProcessGroup.{work.Call}: the tensor needs more than {Work.MaxRequests} MPI messages");
        return (IntPtr*)Unsafe.AsPointer(ref work.Requests[work.Count]); // pinned array
    }

    void Post(Work work, int rc, string mpiCall)
    {
        if (rc != Mpi.Success) Fail($"ProcessGroup.{work.Call} #{work.Sequence}: {mpiCall} failed on rank {Rank}: {Mpi.Describe(rc)}");
        work.Count++;
    }

    /// <summary>Tests every pending request once; true when all are done.</summary>
    internal bool Poll(Work work)
    {
        bool done = true;
        lock (_gate)
            for (int i = 0; i < work.Count; i++)
            {
                if (work.Requests[i] == IntPtr.Zero) continue; // MPI_REQUEST_NULL after completion
                int flag = 0;
                int rc;
                fixed (IntPtr* r = &work.Requests[i]) rc = Mpi.Test(r, &flag, IntPtr.Zero);
                if (rc != Mpi.Success) Fail($"ProcessGroup.{work.Call} #{work.Sequence} on rank {Rank}: MPI_Test failed: {Mpi.Describe(rc)}");
                if (flag == 0) done = false;
            }
        return done;
    }

    internal void Wait(Work work)
    {
        if (work.Group is null) return;
        var deadline = work.Started + (long)(Timeout.TotalSeconds * Stopwatch.Frequency);
        long waitingSince = Stopwatch.GetTimestamp();
        while (!Poll(work))
        {
            if (Stopwatch.GetTimestamp() > deadline)
                Fail($"ProcessGroup.{work.Call} #{work.Sequence} on rank {Rank} of {WorldSize} did not complete within {Timeout.TotalSeconds:0.###} s: " +
                     "another rank died or stopped answering (it never joined this collective)", timeout: true);
            Pause(waitingSince);
        }
        var t = work.Tensor;
        work.Count = 0;
        work.Group = null;
        work.Tensor = null;
        if (t is not null && work.DivideBy != 1)
            using (no_grad()) t.div_(work.DivideBy);
    }

    /// <summary>Between two polls of MPI's requests: spin for 200 µs (a peer a few microseconds
    /// behind costs no wake-up), then yield the core for 5 ms, then sleep 1 ms at a time (a peer
    /// far behind, or stuck, costs no CPU).</summary>
    static void Pause(long waitingSince)
    {
        long waited = Stopwatch.GetTimestamp() - waitingSince;
        if (waited < Stopwatch.Frequency / 5000) return;
        if (waited < Stopwatch.Frequency / 5000 + Stopwatch.Frequency / 200) Thread.Yield();
        else Thread.Sleep(1);
    }

    [DoesNotReturn]
    void Fail(string message, bool timeout = false)
    {
        _fault = message;
        if (timeout) _finalizable = false;
        throw timeout ? new DistributedTimeoutException(message) : new DistributedException(message);
    }

    void CheckUsable(string call)
    {
        if (_disposed) throw new ObjectDisposedException(nameof(ProcessGroup), $"ProcessGroup.{call}: the group was disposed (MPI finalized)");
        if (_fault is not null) throw new DistributedException($"ProcessGroup.{call}: the group is unusable after an earlier failure: {_fault}");
    }

    // ---------------------------------------------------------------- tensors

    /// <summary>The MPI datatype and elements per tensor element for <paramref name="tensor"/>,
    /// after checking it can be sent (CPU, contiguous, a reducible dtype when <paramref name="op"/> is given).</summary>
    (IntPtr Type, int Scale) Transfer(Tensor tensor, string call, ReduceOp? op)
    {
        CheckUsable(call);
        if (tensor.device_type != DeviceType.CPU)
            throw new ArgumentException($"ProcessGroup.{call}: tensors on {tensor.device} are not supported; MPI sends CPU tensors, NCCL CUDA tensors");
        if (!tensor.is_contiguous())
            throw new ArgumentException($"ProcessGroup.{call}: the tensor of shape [{string.Join(", ", tensor.shape)}] is not contiguous; pass tensor.contiguous() (the collective works in place on its memory)");
        var dtype = tensor.dtype;
        IntPtr? reducible = dtype switch
        {
            ScalarType.Float32 => Mpi.Float,
            ScalarType.Float64 => Mpi.Double,
            ScalarType.Int32 => Mpi.Int32,
            ScalarType.Int64 => Mpi.Int64,
            ScalarType.Int8 => Mpi.Int8,
            ScalarType.Byte => Mpi.UInt8,
            ScalarType.Bool when op is ReduceOp.Max or ReduceOp.Min => Mpi.UInt8, // any / all
            _ => null,
        };
        if (op is { } o)
        {
            if (reducible is null)
                throw new ArgumentException($"ProcessGroup.{call}: MPI cannot {o} {dtype} tensors; reduce in float32 (tensor.to(ScalarType.Float32)) or float64" +
                                               (dtype == ScalarType.Bool ? ", or use Max (any) / Min (all) for bool" : ""));
            if (o == ReduceOp.Average && !tensor.is_floating_point())
                throw new ArgumentException($"ProcessGroup.{call}: Average needs a floating-point tensor, got {dtype}; use Sum and divide");
            return (reducible.Value, 1);
        }
        // Moving values only: any dtype goes as bytes.
        return reducible is { } r ? (r, 1) : (Mpi.Byte, (int)tensor.ElementSize);
    }

    /// <summary>Whether <paramref name="tensor"/> takes the NCCL path; checks on this rank, before
    /// any message, what NCCL would refuse only after the others started waiting.</summary>
    bool IsCuda(Tensor tensor, string call)
    {
        if (tensor.device_type != DeviceType.CUDA) return false;
        CheckUsable(call);
        if (!Nccl.IsAvailable) throw new NcclUnavailableException(Nccl.UnavailableReason ?? "NCCL is not available");
        if (!tensor.is_contiguous())
            throw new ArgumentException($"ProcessGroup.{call}: the tensor of shape [{string.Join(", ", tensor.shape)}] on {tensor.device} is not contiguous; pass tensor.contiguous()");
        if (_nccl is { } c && c.CudaDevice != tensor.device_index)
            throw new ArgumentException($"ProcessGroup.{call}: this rank's NCCL communicator is on cuda:{c.CudaDevice}, the tensor on {tensor.device}; one process drives one GPU (cuda:LocalRank)");
        return true;
    }

    /// <summary>The NCCL communicator, made at the first CUDA collective: rank 0's unique id goes
    /// to every rank over MPI (the signature check just lined the ranks up on this call).</summary>
    NcclCommunicator NcclFor(Tensor tensor, string call)
    {
        if (_nccl is { } c) return c;
        var id = BroadcastBytes(Rank == 0 ? NcclCommunicator.GetUniqueId() : null);
        return _nccl = NcclCommunicator.Create(Rank, WorldSize, id, (int)tensor.device_index);
    }

    static IntPtr Data(Tensor t) => t.numel() == 0 ? IntPtr.Zero : Engine.Optim.NativeTensor.Data(t);

    static IntPtr OpHandle(ReduceOp op) => op switch
    {
        ReduceOp.Sum or ReduceOp.Average => Mpi.OpSum,
        ReduceOp.Max => Mpi.OpMax,
        ReduceOp.Min => Mpi.OpMin,
        ReduceOp.Product => Mpi.OpProd,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, "ProcessGroup: unknown ReduceOp"),
    };

    /// <summary>The tensor's memory in pieces MPI's int counts can address (2^30 elements each):
    /// <see cref="ChunkCount"/> pieces, piece i at <see cref="Chunk"/> (no iterator: a step allocates nothing).</summary>
    const long ChunkElements = 1L << 30;

    static int ChunkCount(Tensor tensor, int scale) => (int)((tensor.numel() * scale + ChunkElements - 1) / ChunkElements);

    static (IntPtr Ptr, int Count) Chunk(Tensor tensor, int scale, int i)
    {
        long total = tensor.numel() * scale, at = i * ChunkElements;
        long elementBytes = tensor.ElementSize / scale;
        return (Engine.Optim.NativeTensor.Data(tensor) + (nint)(at * elementBytes), (int)Math.Min(ChunkElements, total - at));
    }

    void CheckRoot(int root, string call)
    {
        if (root < 0 || root >= WorldSize) throw new ArgumentOutOfRangeException(nameof(root), root, $"ProcessGroup.{call}: root must lie in [0, {WorldSize})");
    }

    // ---------------------------------------------------------------- disposal

    /// <summary>Finalizes MPI (every rank must call it). After a timeout it only frees memory: a
    /// finalize would wait on the rank that failed.</summary>
    public void Dispose()
    {
        lock (InitGate)
        {
            if (_disposed) return;
            _disposed = true;
            _nccl?.Dispose();
            if (_finalizable)
            {
                int finalized = 0;
                Mpi.Finalized(&finalized);
                if (finalized == 0) Mpi.Finalize();
            }
            NativeMemory.Free(_signature);
            NativeMemory.Free(_signatures);
        }
    }
}
