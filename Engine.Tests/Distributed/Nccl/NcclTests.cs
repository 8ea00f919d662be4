using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Engine.Distributed;

namespace Engine.Tests.Distributed;

/// <summary>
/// The NCCL path without a GPU (none was lent to the session that wrote it): (a) a missing
/// libnccl gives a clear <see cref="NcclUnavailableException"/> and no crash; (b) every bad
/// argument raises before any native call; (c) the bindings against a fake libnccl compiled here
/// from nccl.h's declarations (fake_nccl.c, host memory), which records each call's arguments.
/// The expected codes are nccl.h's (NVIDIA/nccl src/nccl.h.in), quoted beside each assertion,
/// never Engine's own constants.
/// </summary>
[TestFixture, NonParallelizable]
public sealed unsafe class NcclTests
{
    [StructLayout(LayoutKind.Sequential)]
    struct FakeRecord
    {
        public fixed byte Call[32];
        public fixed byte DatatypeName[32];
        public fixed byte OpName[16];
        public long Send, Recv, Count, Datatype, Op, Root, Comm, Stream;
        public long GroupStarts, GroupEnds, Destroys, Aborts, Device;
        public long InitRanks, InitRank, IdFirst, IdLast, IdSum;
    }

    static string? fakePath;
    static string? fakeSkipReason;
    static delegate* unmanaged[Cdecl]<FakeRecord*> fakeRecord;
    static delegate* unmanaged[Cdecl]<int, void> fakeSetVersion;
    static delegate* unmanaged[Cdecl]<int, void> fakeSetAsyncError;
    static delegate* unmanaged[Cdecl]<void> fakeReset;

    static string SourceDir([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    [OneTimeSetUp]
    public void BuildFake()
    {
        string source = Path.Combine(SourceDir(), "fake_nccl.c");
        if (!File.Exists(source)) { fakeSkipReason = $"fake_nccl.c not found at {source} (tests run outside the source tree)"; return; }
        string dir = Path.Combine(Path.GetTempPath(), $"engine-fake-nccl-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string output = Path.Combine(dir, "libnccl.so.2");
        ProcessStartInfo start = new("gcc", ["-shared", "-fPIC", "-O1", "-Wall", "-o", output, source])
        { RedirectStandardError = true, RedirectStandardOutput = true };
        try
        {
            using var gcc = Process.Start(start)!;
            string errors = gcc.StandardError.ReadToEnd();
            gcc.WaitForExit();
            if (gcc.ExitCode != 0) Assert.Fail($"gcc failed to build the fake libnccl: {errors}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            fakeSkipReason = $"gcc is not installed ({e.Message}); the fake-libnccl ABI tests need it";
            return;
        }
        fakePath = output;
        var handle = NativeLibrary.Load(output);
        fakeRecord = (delegate* unmanaged[Cdecl]<FakeRecord*>)NativeLibrary.GetExport(handle, "fakeNcclRecord");
        fakeSetVersion = (delegate* unmanaged[Cdecl]<int, void>)NativeLibrary.GetExport(handle, "fakeNcclSetVersion");
        fakeSetAsyncError = (delegate* unmanaged[Cdecl]<int, void>)NativeLibrary.GetExport(handle, "fakeNcclSetAsyncError");
        fakeReset = (delegate* unmanaged[Cdecl]<void>)NativeLibrary.GetExport(handle, "fakeNcclReset");
    }

    [OneTimeTearDown]
    public void RestoreDefaultLookup()
    {
        NcclNative.Load(Environment.GetEnvironmentVariable(NcclNative.LibraryVariable));
        NcclNative.LoadCudaRuntime(Environment.GetEnvironmentVariable(NcclNative.CudaRuntimeVariable));
        if (fakePath is not null) try { Directory.Delete(Path.GetDirectoryName(fakePath)!, true); } catch (IOException) { }
    }

    /// <summary>Loads the fake as libnccl and as libcudart, reporting the given NCCL_VERSION code.</summary>
    static void UseFake(int versionCode = 22304)
    {
        if (fakePath is null) Assert.Ignore(fakeSkipReason ?? "no fake libnccl");
        fakeReset();
        fakeSetVersion(versionCode);
        Assert.That(NcclNative.Load(fakePath), Is.Null);
        Assert.That(NcclNative.LoadCudaRuntime(fakePath), Is.Null);
    }

    static FakeRecord Last => *fakeRecord();
    static string Text(byte* s) => Marshal.PtrToStringUTF8((IntPtr)s)!;

    static NcclCommunicator FakeComm(int rank = 0, int world = 1) =>
        NcclCommunicator.CreateCore(rank, world, NcclCommunicator.GetUniqueId(), cudaDevice: 0, allowHostPointersForTests: true);

    /// <summary>A communicator with no library behind it: any native call it reached would throw
    /// NcclUnavailableException, so an ArgumentException proves the check came first.</summary>
    static NcclCommunicator Unbacked(int world = 2, bool host = false) =>
        new(api: null, comm: IntPtr.Zero, rank: 0, worldSize: world, cudaDevice: 0, allowHostPointersForTests: host);

    // ---------------- (a) the library is missing ----------------

    [Test]
    public void Missing_library_at_the_override_path_gives_the_clear_reason_and_no_crash()
    {
        const string missing = "/nonexistent/engine-test/libnccl.so.2";
        string? reason = NcclNative.Load(missing);
        Assert.That(Nccl.IsAvailable, Is.False);
        Assert.That(Nccl.UnavailableReason, Is.EqualTo(reason));
        Assert.That(reason, Does.StartWith("NCCL is not available"));
        Assert.That(reason, Does.Contain($"ENGINE_NCCL_LIBRARY={missing}"));
        Assert.That(reason, Does.Contain("libnccl.so.2, libnccl.so"), "names the default names the override replaced");
        Assert.That(reason, Does.Contain("libtorch-cuda").And.Contain("libnccl2"), "says where NCCL comes from");
        Assert.That(reason, Does.Contain("ENGINE_NCCL_LIBRARY=/full/path/to/libnccl.so.2"), "says how to point at it");

        var e = Assert.Throws<NcclUnavailableException>(() => NcclCommunicator.GetUniqueId())!;
        Assert.That(e.Message, Does.StartWith("NcclCommunicator.GetUniqueId: NCCL is not available"));
        Assert.That(e, Is.InstanceOf<DistributedException>());
        var c = Assert.Throws<NcclUnavailableException>(() => NcclCommunicator.Create(0, 1, new byte[128], 0))!;
        Assert.That(c.Message, Does.StartWith("NcclCommunicator.Create: NCCL is not available").And.Contain(missing));
        Assert.That(Nccl.Version, Is.Null);
    }

    [Test]
    public void Default_lookup_reports_every_name_tried()
    {
        if (NativeLibrary.TryLoad("libnccl.so.2", out _) || NativeLibrary.TryLoad("libnccl.so", out _))
            Assert.Ignore("this machine has a libnccl on the loader's path");
        string? reason = NcclNative.Load(null, searchMapped: false);
        Assert.That(Nccl.IsAvailable, Is.False);
        Assert.That(reason, Does.StartWith("NCCL is not available: tried libnccl.so.2, libnccl.so. "));
        Assert.That(reason, Does.Contain("libnccl.so.2: ").And.Contain("libnccl.so: "), "dlopen's words for each name");
    }

    [Test]
    public void Default_lookup_falls_back_to_a_libnccl_already_mapped_into_the_process()
    {
        if (NativeLibrary.TryLoad("libnccl.so.2", out _) || NativeLibrary.TryLoad("libnccl.so", out _))
            Assert.Ignore("this machine has a libnccl on the loader's path, which the lookup takes first");
        UseFake(); // maps the fake, as libtorch_cuda would map its libnccl
        Assert.That(NcclNative.Load(null), Is.Null);
        Assert.That(Nccl.LibraryPath, Is.EqualTo($"{fakePath} (already mapped into this process)"));
    }

    [Test]
    public void A_library_that_is_not_nccl_is_refused_by_name_of_the_missing_exports()
    {
        string? reason = NcclNative.Load("libc.so.6");
        Assert.That(reason, Does.Contain("libc.so.6: loaded, but it lacks ncclGetVersion, ncclGetUniqueId"));
        Assert.That(Nccl.IsAvailable, Is.False);
    }

    [Test]
    public void Valid_arguments_reach_the_library_check_and_stop_there()
    {
        NcclNative.Load("/nonexistent/libnccl.so.2");
        using var comm = Unbacked(host: true);
        var e = Assert.Throws<NcclUnavailableException>(() => comm.AllReduce(ones(4), ReduceOp.Sum))!;
        Assert.That(e.Message, Does.StartWith("NcclCommunicator.AllReduce: NCCL is not available"));
    }

    // ---------------- (b) argument checks before any native call ----------------

    [Test]
    public void A_cpu_tensor_is_refused_naming_call_shape_dtype_and_device()
    {
        using var comm = Unbacked();
        var e = Assert.Throws<ArgumentException>(() => comm.AllReduce(zeros(3, 4), ReduceOp.Sum))!;
        Assert.That(e.Message, Does.Contain("NcclCommunicator.AllReduce: tensor must be a CUDA tensor on cuda:0")
            .And.Contain("shape [3, 4], dtype Float32, device cpu"));
        Assert.Throws<ArgumentException>(() => comm.Broadcast(zeros(2), 0));
        Assert.Throws<ArgumentException>(() => comm.AllGather(zeros(2), zeros(4)));
        Assert.Throws<ArgumentException>(() => comm.ReduceScatter(zeros(4), zeros(2), ReduceOp.Sum));
    }

    [Test]
    public void A_non_contiguous_tensor_is_refused_with_its_strides()
    {
        using var comm = Unbacked(host: true);
        var e = Assert.Throws<ArgumentException>(() => comm.AllReduce(zeros(3, 4).t(), ReduceOp.Sum))!;
        Assert.That(e.Message, Does.Contain("tensor must be contiguous").And.Contain("shape [4, 3]").And.Contain("strides [1, 4]"));
        var g = Assert.Throws<ArgumentException>(() => comm.AllGather(zeros(2), zeros(4, 2).t()))!;
        Assert.That(g.Message, Does.Contain("NcclCommunicator.AllGather: output must be contiguous"));
    }

    [Test]
    public void AllGather_output_must_hold_world_times_input_elements()
    {
        using var comm = Unbacked(world: 2, host: true);
        var e = Assert.Throws<ArgumentException>(() => comm.AllGather(zeros(3, 4), zeros(12)))!;
        Assert.That(e.Message, Does.Contain("output must hold WorldSize × input.numel() = 2 × 12 = 24 elements")
            .And.Contain("got output shape [12]").And.Contain("for input shape [3, 4]"));
        var d = Assert.Throws<ArgumentException>(() => comm.AllGather(zeros(3), zeros(6, dtype: float64)))!;
        Assert.That(d.Message, Does.Contain("input and output must have the same dtype"));
    }

    [Test]
    public void ReduceScatter_input_must_hold_world_times_output_elements()
    {
        using var comm = Unbacked(world: 4, host: true);
        var e = Assert.Throws<ArgumentException>(() => comm.ReduceScatter(zeros(10), zeros(3), ReduceOp.Sum))!;
        Assert.That(e.Message, Does.Contain("NcclCommunicator.ReduceScatter: input must hold WorldSize × output.numel() = 4 × 3 = 12 elements")
            .And.Contain("got input shape [10]"));
    }

    [TestCase(ScalarType.Bool)]
    [TestCase(ScalarType.ComplexFloat32)]
    [TestCase(ScalarType.Int16)]
    public void Unsupported_dtypes_are_refused(ScalarType dtype)
    {
        using var comm = Unbacked(host: true);
        var e = Assert.Throws<ArgumentException>(() => comm.AllReduce(zeros(2, dtype: dtype), ReduceOp.Sum))!;
        Assert.That(e.Message, Does.Contain($"tensor has dtype {dtype}, which NCCL does not carry").And.Contain("supported: Float32"));
    }

    [Test]
    public void Average_of_integers_root_out_of_range_and_overlaps_are_refused()
    {
        using var comm = Unbacked(world: 2, host: true);
        var a = Assert.Throws<ArgumentException>(() => comm.AllReduce(zeros(2, dtype: int32), ReduceOp.Average))!;
        Assert.That(a.Message, Does.Contain("ReduceOp.Average needs a floating dtype").And.Contain("dtype Int32"));
        var r = Assert.Throws<ArgumentOutOfRangeException>(() => comm.Broadcast(zeros(2), 2))!;
        Assert.That(r.Message, Does.Contain("root must be a rank in [0, 2), got 2"));
        // Rank 0's in-place slice is output[0:n]; output[1:n+1] overlaps without being it.
        var output = zeros(8);
        var o = Assert.Throws<ArgumentException>(() => comm.AllGather(output[1..5], output))!;
        Assert.That(o.Message, Does.Contain("input and output overlap in memory"));
    }

    [Test]
    public void Create_checks_its_arguments_before_looking_for_the_library()
    {
        NcclNative.Load("/nonexistent/libnccl.so.2");
        var id = new byte[128];
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => NcclCommunicator.Create(2, 2, id, 0))!.Message,
            Does.Contain("rank must be in [0, 2) for worldSize 2, got 2"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => NcclCommunicator.Create(0, 0, id, 0))!.Message,
            Does.Contain("worldSize must be at least 1"));
        Assert.That(Assert.Throws<ArgumentException>(() => NcclCommunicator.Create(0, 1, new byte[127], 0))!.Message,
            Does.Contain("uniqueId must be the 128 bytes rank 0 got from GetUniqueId, got 127 bytes"));
        Assert.Throws<ArgumentNullException>(() => NcclCommunicator.Create(0, 1, null!, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => NcclCommunicator.Create(0, 1, id, -1));
    }

    [Test]
    public void A_disposed_communicator_says_so()
    {
        var comm = Unbacked(host: true);
        comm.Dispose();
        comm.Dispose();
        var e = Assert.Throws<ObjectDisposedException>(() => comm.AllReduce(zeros(2), ReduceOp.Sum))!;
        Assert.That(e.Message, Does.Contain("NcclCommunicator.AllReduce: this communicator (rank 0 of 2) was disposed"));
    }

    // ---------------- (c) the bindings against a fake libnccl built from nccl.h ----------------

    [TestCase(2804, 2, 8, 4)]    // NCCL_VERSION(2,8,4): X <= 2 && Y <= 8, so X*1000 + Y*100 + Z
    [TestCase(20900, 2, 9, 0)]   // NCCL_VERSION(2,9,0): X*10000 + Y*100 + Z
    [TestCase(21003, 2, 10, 3)]
    [TestCase(22304, 2, 23, 4)]
    public void GetVersion_codes_decode_as_nccl_h_encodes_them(int code, int major, int minor, int patch)
    {
        // nccl.h: #define NCCL_VERSION(X,Y,Z) (((X) <= 2 && (Y) <= 8) ? (X) * 1000 + (Y) * 100 + (Z) : (X) * 10000 + (Y) * 100 + (Z))
        Assert.That(NcclNative.DecodeVersion(code), Is.EqualTo(new Version(major, minor, patch)));
        UseFake(code);
        Assert.That(Nccl.IsAvailable, Is.True);
        Assert.That(Nccl.Version, Is.EqualTo(new Version(major, minor, patch)), "through ncclGetVersion(int*)");
        Assert.That(Nccl.LibraryPath, Does.Contain(fakePath));
    }

    [Test]
    public void The_unique_id_goes_out_and_back_by_value_intact()
    {
        UseFake();
        byte[] id = NcclCommunicator.GetUniqueId();
        Assert.That(id, Has.Length.EqualTo(128)); // nccl.h: #define NCCL_UNIQUE_ID_BYTES 128
        Assert.That(id, Is.EqualTo(Enumerable.Range(0, 128).Select(i => (byte)(i * 7 + 3)).ToArray()), "what the fake's ncclGetUniqueId wrote");
        id[0] = 0xAB;
        id[127] = 0xCD;
        using var comm = NcclCommunicator.CreateCore(rank: 1, worldSize: 3, id, cudaDevice: 2, allowHostPointersForTests: true);
        var r = Last;
        // ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank): the 128-byte struct by value.
        Assert.That(Text(r.Call), Is.EqualTo("ncclCommInitRank"));
        Assert.That((r.InitRanks, r.InitRank), Is.EqualTo((3L, 1L)));
        Assert.That((r.IdFirst, r.IdLast, r.IdSum), Is.EqualTo((0xABL, 0xCDL, id.Sum(b => (long)b))));
        Assert.That(r.Device, Is.EqualTo(2), "cudaSetDevice(cudaDevice) before ncclCommInitRank");
        Assert.That((comm.Rank, comm.WorldSize, comm.CudaDevice), Is.EqualTo((1, 3, 2)));
    }

    // nccl.h ncclDataType_t: ncclInt8 = 0, ncclUint8 = 1, ncclInt32 = 2, ncclInt64 = 4,
    // ncclFloat16 = 6, ncclFloat32 = 7, ncclFloat64 = 8, ncclBfloat16 = 9.
    [TestCase(ScalarType.Int8, 0, "ncclInt8")]
    [TestCase(ScalarType.Byte, 1, "ncclUint8")]
    [TestCase(ScalarType.Int32, 2, "ncclInt32")]
    [TestCase(ScalarType.Int64, 4, "ncclInt64")]
    [TestCase(ScalarType.Float16, 6, "ncclFloat16")]
    [TestCase(ScalarType.Float32, 7, "ncclFloat32")]
    [TestCase(ScalarType.Float64, 8, "ncclFloat64")]
    [TestCase(ScalarType.BFloat16, 9, "ncclBfloat16")]
    public void AllReduce_passes_the_nccl_h_datatype_count_pointers_and_stream_0(ScalarType dtype, int code, string name)
    {
        UseFake();
        using var comm = FakeComm();
        var t = arange(10, dtype: dtype);
        comm.AllReduce(t, ReduceOp.Sum);
        var r = Last;
        Assert.That(Text(r.Call), Is.EqualTo("ncclAllReduce"));
        Assert.That((r.Datatype, Text(r.DatatypeName)), Is.EqualTo(((long)code, name)));
        Assert.That((r.Op, Text(r.OpName)), Is.EqualTo((0L, "ncclSum"))); // nccl.h: ncclSum = 0
        Assert.That(r.Count, Is.EqualTo(10));
        Assert.That(r.Send, Is.EqualTo(r.Recv).And.Not.EqualTo(0), "in place: sendbuff == recvbuff");
        Assert.That(r.Stream, Is.EqualTo(0), "the legacy default stream, libtorch's default stream");
        Assert.That(r.Comm, Is.Not.EqualTo(0));
        Assert.That(t.to(float64).data<double>().ToArray(), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (double)i).ToArray()), "one rank: the sum is the tensor");
    }

    // nccl.h ncclRedOp_t: ncclSum = 0, ncclProd = 1, ncclMax = 2, ncclMin = 3, ncclAvg = 4.
    [TestCase(ReduceOp.Sum, 0, "ncclSum", new[] { 3.0, 6.0, 9.0 })]
    [TestCase(ReduceOp.Product, 1, "ncclProd", new[] { 1.0, 8.0, 27.0 })]
    [TestCase(ReduceOp.Max, 2, "ncclMax", new[] { 1.0, 2.0, 3.0 })]
    [TestCase(ReduceOp.Min, 3, "ncclMin", new[] { 1.0, 2.0, 3.0 })]
    [TestCase(ReduceOp.Average, 4, "ncclAvg", new[] { 1.0, 2.0, 3.0 })]
    public void AllReduce_ops_map_to_nccl_h_codes(ReduceOp op, int code, string name, double[] expected)
    {
        UseFake(); // 2.23.4: ncclAvg exists
        using var comm = FakeComm(rank: 0, world: 3); // the fake's 3 ranks all hold [1, 2, 3]
        var t = tensor(new[] { 1.0, 2.0, 3.0 });
        comm.AllReduce(t, op);
        var r = Last;
        Assert.That((r.Op, Text(r.OpName)), Is.EqualTo(((long)code, name)));
        Assert.That(t.data<double>().ToArray(), Is.EqualTo(expected));
    }

    [Test]
    public void Average_before_nccl_2_10_is_sum_then_divide_and_bfloat16_is_refused()
    {
        UseFake(2804); // 2.8.4: no ncclAvg, no ncclBfloat16
        using var comm = FakeComm(rank: 0, world: 4);
        var t = tensor(new[] { 1.0f, 2.0f, 6.0f });
        comm.AllReduce(t, ReduceOp.Average);
        Assert.That(Last.Op, Is.EqualTo(0), "nccl.h: ncclSum = 0");
        Assert.That(t.data<float>().ToArray(), Is.EqualTo(new[] { 1.0f, 2.0f, 6.0f }), "4 equal ranks: 4x / 4");
        var e = Assert.Throws<ArgumentException>(() => comm.AllReduce(zeros(2, dtype: bfloat16), ReduceOp.Sum))!;
        Assert.That(e.Message, Does.Contain("BFloat16 needs NCCL 2.10.0 or later").And.Contain("the loaded NCCL is 2.8.4"));
    }

    [Test]
    public void The_data_pointer_includes_the_storage_offset()
    {
        UseFake();
        using var comm = FakeComm(rank: 0, world: 2);
        var whole = arange(6, dtype: float32);
        var tail = whole[2..]; // a contiguous view 2 elements into its storage
        comm.AllReduce(tail, ReduceOp.Sum);
        Assert.That(whole.data<float>().ToArray(), Is.EqualTo(new[] { 0f, 1f, 4f, 6f, 8f, 10f }));
        Assert.That(Last.Count, Is.EqualTo(4));
    }

    [Test]
    public void Broadcast_passes_root_and_works_in_place()
    {
        UseFake();
        using var comm = FakeComm(rank: 0, world: 2);
        var t = tensor(new long[] { 5, 6, 7 });
        comm.Broadcast(t, root: 1);
        var r = Last;
        Assert.That(Text(r.Call), Is.EqualTo("ncclBroadcast"));
        Assert.That((r.Root, r.Count, r.Datatype), Is.EqualTo((1L, 3L, 4L))); // nccl.h: ncclInt64 = 4
        Assert.That(r.Send, Is.EqualTo(r.Recv));
        Assert.That(t.data<long>().ToArray(), Is.EqualTo(new long[] { 5, 6, 7 }));
    }

    [Test]
    public void AllGather_passes_the_send_count_and_fills_every_rank_block()
    {
        UseFake();
        using var comm = FakeComm(rank: 1, world: 3);
        var input = arange(4, dtype: float32).reshape(2, 2);
        var output = zeros(3, 2, 2);
        comm.AllGather(input, output);
        var r = Last;
        Assert.That(Text(r.Call), Is.EqualTo("ncclAllGather"));
        Assert.That((r.Count, r.Datatype), Is.EqualTo((4L, 7L)), "sendcount = input.numel(); nccl.h: ncclFloat32 = 7");
        Assert.That(r.Send, Is.Not.EqualTo(r.Recv));
        Assert.That(output.data<float>().ToArray(), Is.EqualTo(new float[] { 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3 }), "input in each of the 3 rank blocks");

        // In place: input is exactly output[Rank·n, (Rank+1)·n).
        var flat = arange(12, dtype: float32);
        comm.AllGather(flat[4..8], flat);
        Assert.That(flat.data<float>().ToArray(), Is.EqualTo(new float[] { 4, 5, 6, 7, 4, 5, 6, 7, 4, 5, 6, 7 }));
    }

    [Test]
    public void ReduceScatter_passes_the_receive_count_and_reduces_this_ranks_block()
    {
        UseFake();
        using var comm = FakeComm(rank: 1, world: 2);
        var input = arange(8, dtype: float64);
        var output = zeros(4, dtype: float64);
        comm.ReduceScatter(input, output, ReduceOp.Sum);
        var r = Last;
        Assert.That(Text(r.Call), Is.EqualTo("ncclReduceScatter"));
        Assert.That((r.Count, r.Datatype, r.Op), Is.EqualTo((4L, 8L, 0L)), "recvcount = output.numel(); nccl.h: ncclFloat64 = 8, ncclSum = 0");
        Assert.That(output.data<double>().ToArray(), Is.EqualTo(new[] { 8.0, 10.0, 12.0, 14.0 }), "2 equal ranks, block 1 = input[4..8]");
    }

    [Test]
    public void A_failed_call_carries_ncclGetErrorString_and_ncclGetLastError_and_the_dispose_aborts()
    {
        UseFake();
        var comm = FakeComm();
        var e = Assert.Throws<DistributedException>(() => comm.AllReduce(zeros(12345), ReduceOp.Sum))!;
        Assert.That(e.Message, Does.StartWith("NcclCommunicator.AllReduce: ncclAllReduce failed on rank 0 of 1 (cuda:0): "));
        Assert.That(e.Message, Does.Contain("ncclInvalidArgument (4): fake-nccl says: invalid argument")); // nccl.h: ncclInvalidArgument = 4
        Assert.That(e.Message, Does.Contain("last error: fake-nccl: count 12345 is the planted failure"));
        var again = Assert.Throws<DistributedException>(() => comm.AllReduce(zeros(2), ReduceOp.Sum))!;
        Assert.That(again.Message, Does.Contain("failed earlier and cannot be used"));
        comm.Dispose();
        Assert.That((Last.Aborts, Last.Destroys), Is.EqualTo((1L, 0L)), "ncclCommAbort after an error");
    }

    [Test]
    public void A_clean_dispose_destroys_and_an_async_error_aborts()
    {
        UseFake();
        FakeComm().Dispose();
        Assert.That((Last.Destroys, Last.Aborts), Is.EqualTo((1L, 0L)));

        var comm = FakeComm();
        fakeSetAsyncError(6); // nccl.h: ncclRemoteError = 6
        var e = Assert.Throws<DistributedException>(comm.CheckAsyncError)!;
        Assert.That(e.Message, Does.Contain("ncclRemoteError (6): fake-nccl says: remote process exited"));
        comm.Dispose();
        Assert.That(Last.Aborts, Is.EqualTo(1));
    }

    [Test]
    public void Init_timeout_and_cuda_device_errors_are_named()
    {
        UseFake();
        var t = Assert.Throws<DistributedTimeoutException>(() => NcclCommunicator.CreateCore(0, 777, new byte[128], 0, true))!;
        Assert.That(t.Message, Does.Contain("ncclCommInitRank(rank 0 of 777, cuda:0) failed: ncclTimeout (8)")); // nccl.h: ncclTimeout = 8
        Assert.That(t.Message, Does.Contain("planted timeout"));
        var d = Assert.Throws<DistributedException>(() => NcclCommunicator.CreateCore(0, 1, new byte[128], 99, true))!;
        Assert.That(d.Message, Does.Contain("cudaSetDevice(99) failed with cudaError 101 (invalid device ordinal)"));
    }

    [Test]
    public void Group_brackets_the_body_and_ends_even_when_it_throws()
    {
        UseFake();
        using var comm = FakeComm(world: 2);
        var a = ones(3);
        var b = ones(2, dtype: float64);
        comm.Group(() =>
        {
            comm.AllReduce(a, ReduceOp.Sum);
            comm.AllReduce(b, ReduceOp.Sum);
            Assert.That(a.data<float>().ToArray(), Is.EqualTo(new[] { 1f, 1f, 1f }), "the fake, like NCCL, runs a group at ncclGroupEnd");
        });
        Assert.That((Last.GroupStarts, Last.GroupEnds), Is.EqualTo((1L, 1L)));
        Assert.That(a.data<float>().ToArray(), Is.EqualTo(new[] { 2f, 2f, 2f }));
        Assert.That(b.data<double>().ToArray(), Is.EqualTo(new[] { 2.0, 2.0 }));
        Assert.Throws<InvalidOperationException>(() => comm.Group(() => throw new InvalidOperationException("body")));
        Assert.That((Last.GroupStarts, Last.GroupEnds), Is.EqualTo((2L, 2L)));
    }

    [Test]
    public void Average_before_nccl_2_10_inside_a_group_divides_after_the_group_ran()
    {
        UseFake(2804);
        using var comm = FakeComm(world: 4);
        var t = tensor(new[] { 1.0f, 2.0f, 6.0f });
        comm.Group(() =>
        {
            comm.AllReduce(t, ReduceOp.Average);
            Assert.That(t.data<float>().ToArray(), Is.EqualTo(new[] { 1.0f, 2.0f, 6.0f }), "neither summed nor divided yet");
        });
        Assert.That(t.data<float>().ToArray(), Is.EqualTo(new[] { 1.0f, 2.0f, 6.0f }), "4 equal ranks: 4x, then / 4");
    }
}
