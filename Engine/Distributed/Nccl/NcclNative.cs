using System.Runtime.InteropServices;

namespace Engine.Distributed;

/// <summary>
/// NCCL's C API, bound at run time through <see cref="NativeLibrary"/> and unmanaged function
/// pointers, so that a machine without libnccl (every CPU machine, Windows, macOS) loads Engine
/// and only learns that NCCL is missing when it asks for it: loading never throws, never
/// crashes; <see cref="Require"/> throws <see cref="NcclUnavailableException"/> with what was
/// tried.
/// </summary>
/// <remarks>
/// <para>Signatures and enum values are nccl.h's (NVIDIA/nccl, <c>src/nccl.h.in</c>, read at commit
/// 021e8045): <c>ncclResult_t</c>, <c>ncclDataType_t</c> and <c>ncclRedOp_t</c> are C enums
/// (<c>int</c>), <c>size_t</c> is <see cref="nuint"/>, <c>ncclComm_t</c> and <c>cudaStream_t</c> are
/// pointers, and <c>ncclUniqueId</c> is <c>struct { char internal[128]; }</c>, passed BY VALUE to
/// <c>ncclCommInitRank</c> (the test's fake library, compiled from the same declarations, checks
/// that this marshalling reaches C intact).</para>
/// <para>Where the library comes from: <c>ENGINE_NCCL_LIBRARY</c> (a path; when set, only it is
/// tried), else <c>libnccl.so.2</c>, <c>libnccl.so</c>, else a libnccl already mapped into this
/// process (<c>/proc/self/maps</c>; e.g. loaded by libtorch_cuda). The CUDA runtime, needed only for
/// <c>cudaSetDevice</c> (NCCL binds a communicator to the calling thread's current device, and
/// TorchSharp 0.107 has no <c>torch.cuda.set_device</c>): <c>ENGINE_CUDART_LIBRARY</c>, else
/// <c>libcudart.so.12</c>, <c>libcudart.so.11.0</c>, <c>libcudart.so</c>, else the libcudart libtorch
/// has already mapped (libtorch's CUDA builds ship it under a hashed name).</para>
/// <para>Untested on a GPU: this session had no CUDA device and no libnccl; the bindings are
/// checked against a fake libnccl built from nccl.h's declarations (Engine.Tests/Distributed/Nccl).</para>
/// </remarks>
internal static unsafe class NcclNative
{
    internal const string LibraryVariable = "ENGINE_NCCL_LIBRARY";
    internal const string CudaRuntimeVariable = "ENGINE_CUDART_LIBRARY";
    internal static readonly string[] LibraryNames = ["libnccl.so.2", "libnccl.so"];
    internal static readonly string[] CudaRuntimeNames = ["libcudart.so.12", "libcudart.so.11.0", "libcudart.so"];

    // ncclResult_t, nccl.h: ncclSuccess = 0, ncclUnhandledCudaError = 1, ncclSystemError = 2,
    // ncclInternalError = 3, ncclInvalidArgument = 4, ncclInvalidUsage = 5, ncclRemoteError = 6,
    // ncclInProgress = 7, ncclTimeout = 8.
    internal const int Success = 0;
    internal const int Timeout = 8;
    static readonly string[] ResultNames =
    [
        "ncclSuccess", "ncclUnhandledCudaError", "ncclSystemError", "ncclInternalError",
        "ncclInvalidArgument", "ncclInvalidUsage", "ncclRemoteError", "ncclInProgress", "ncclTimeout",
    ];

    // ncclDataType_t, nccl.h: ncclInt8 = 0, ncclUint8 = 1, ncclInt32 = 2, ncclUint32 = 3,
    // ncclInt64 = 4, ncclUint64 = 5, ncclFloat16 = 6, ncclFloat32 = 7, ncclFloat64 = 8,
    // ncclBfloat16 = 9 (2.10 and later; before it ncclNumTypes was 9).
    internal const int Int8 = 0, Uint8 = 1, Int32 = 2, Int64 = 4, Float16 = 6, Float32 = 7, Float64 = 8, Bfloat16 = 9;

    // ncclRedOp_t, nccl.h: ncclSum = 0, ncclProd = 1, ncclMax = 2, ncclMin = 3, ncclAvg = 4 (2.10 and later).
    internal const int Sum = 0, Prod = 1, Max = 2, Min = 3, Avg = 4;

    /// <summary>NCCL 2.10 added ncclAvg and ncclBfloat16.</summary>
    internal static readonly Version AvgAndBfloat16Since = new(2, 10, 0);

    /// <summary>nccl.h: <c>typedef struct { char internal[NCCL_UNIQUE_ID_BYTES]; } ncclUniqueId;</c>,
    /// NCCL_UNIQUE_ID_BYTES = 128.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct UniqueId
    {
        internal const int Bytes = 128;
        internal fixed byte Internal[Bytes];
    }

    /// <summary>One loaded libnccl: its entry points and version. A communicator keeps the one it
    /// was made with.</summary>
    internal sealed class Api
    {
        internal required string Path { get; init; }
        internal required Version Version { get; init; }
        internal required int VersionCode { get; init; }
        internal bool SupportsAvgAndBfloat16 => Version >= AvgAndBfloat16Since;

        // ncclResult_t ncclGetVersion(int *version);
        internal delegate* unmanaged[Cdecl]<int*, int> GetVersion;
        // ncclResult_t ncclGetUniqueId(ncclUniqueId* uniqueId);
        internal delegate* unmanaged[Cdecl]<UniqueId*, int> GetUniqueId;
        // ncclResult_t ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId commId, int rank);
        internal delegate* unmanaged[Cdecl]<IntPtr*, int, UniqueId, int, int> CommInitRank;
        // ncclResult_t ncclCommDestroy(ncclComm_t comm);
        internal delegate* unmanaged[Cdecl]<IntPtr, int> CommDestroy;
        // ncclResult_t ncclCommAbort(ncclComm_t comm);
        internal delegate* unmanaged[Cdecl]<IntPtr, int> CommAbort;
        // ncclResult_t ncclCommGetAsyncError(ncclComm_t comm, ncclResult_t *asyncError);
        internal delegate* unmanaged[Cdecl]<IntPtr, int*, int> CommGetAsyncError;
        // const char* ncclGetErrorString(ncclResult_t result);
        internal delegate* unmanaged[Cdecl]<int, IntPtr> GetErrorString;
        // const char* ncclGetLastError(ncclComm_t comm); absent before NCCL 2.13, so optional (null).
        internal delegate* unmanaged[Cdecl]<IntPtr, IntPtr> GetLastError;
        // ncclResult_t ncclAllReduce(const void* sendbuff, void* recvbuff, size_t count,
        //     ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream);
        internal delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> AllReduce;
        // ncclResult_t ncclBroadcast(const void* sendbuff, void* recvbuff, size_t count,
        //     ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream);
        internal delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> Broadcast;
        // ncclResult_t ncclAllGather(const void* sendbuff, void* recvbuff, size_t sendcount,
        //     ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream);
        internal delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, IntPtr, IntPtr, int> AllGather;
        // ncclResult_t ncclReduceScatter(const void* sendbuff, void* recvbuff, size_t recvcount,
        //     ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream);
        internal delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> ReduceScatter;
        // ncclResult_t ncclGroupStart(); ncclResult_t ncclGroupEnd();
        internal delegate* unmanaged[Cdecl]<int> GroupStart;
        internal delegate* unmanaged[Cdecl]<int> GroupEnd;

        /// <summary>"ncclInvalidArgument (4): &lt;ncclGetErrorString&gt;; last error: &lt;ncclGetLastError&gt;".</summary>
        internal string Describe(int result, IntPtr comm)
        {
            string name = result >= 0 && result < ResultNames.Length ? ResultNames[result] : "ncclResult_t";
            string text = $"{name} ({result}): {Marshal.PtrToStringUTF8(GetErrorString(result)) ?? "no description"}";
            if (GetLastError != null)
            {
                string? last = Marshal.PtrToStringUTF8(GetLastError(comm));
                if (!string.IsNullOrWhiteSpace(last)) text += $"; last error: {last.Trim()}";
            }
            return text;
        }
    }

    /// <summary>The CUDA runtime entry points NCCL needs around it.</summary>
    internal sealed class CudaRuntime
    {
        internal required string Path { get; init; }
        // cudaError_t cudaSetDevice(int device);
        internal delegate* unmanaged[Cdecl]<int, int> SetDevice;
        // const char* cudaGetErrorString(cudaError_t error); optional.
        internal delegate* unmanaged[Cdecl]<int, IntPtr> GetErrorString;

        internal void Select(int device, string call)
        {
            int e = SetDevice(device);
            if (e == 0) return;
            string? text = GetErrorString != null ? Marshal.PtrToStringUTF8(GetErrorString(e)) : null;
            throw new DistributedException($"{call}: cudaSetDevice({device}) failed with cudaError {e}{(text is null ? "" : $" ({text})")} (from {Path}).");
        }
    }

    static readonly object Gate = new();
    static bool loaded, cudaLoaded;
    static Api? api;
    static string? reason;
    static CudaRuntime? cudart;
    static string? cudaReason;

    /// <summary>The loaded library, or null with <see cref="Reason"/> saying why not.</summary>
    internal static Api? Current { get { EnsureLoaded(); return api; } }

    /// <summary>Why NCCL is unavailable (what was tried, what failed), or null when it loaded.</summary>
    internal static string? Reason { get { EnsureLoaded(); return reason; } }

    static void EnsureLoaded()
    {
        if (Volatile.Read(ref loaded)) return;
        lock (Gate)
            if (!loaded) Load(Environment.GetEnvironmentVariable(LibraryVariable));
    }

    /// <summary>(Re)loads NCCL: from <paramref name="path"/> alone when given (what
    /// ENGINE_NCCL_LIBRARY sets; a bad path is not silently replaced by another copy), else from
    /// the default names. Returns null on success, else the reason, which
    /// <see cref="Nccl.UnavailableReason"/> then reports. Never throws.</summary>
    internal static string? Load(string? path) => Load(path, searchMapped: true);

    /// <summary><paramref name="searchMapped"/>: also look for a libnccl this process has already
    /// mapped when the default names fail (tests turn it off to see the default names alone).</summary>
    internal static string? Load(string? path, bool searchMapped)
    {
        lock (Gate)
        {
            var failures = new List<string>();
            Api? found = null;
            if (!string.IsNullOrWhiteSpace(path))
                found = TryBind(path, $"{LibraryVariable}={path}", failures);
            else
            {
                foreach (var name in LibraryNames)
                    if ((found = TryBind(name, name, failures)) is not null) break;
                if (found is null && searchMapped && FindMapped("libnccl") is { } mapped)
                    found = TryBind(mapped, $"{mapped} (already mapped into this process)", failures);
            }
            api = found;
            reason = found is null ? UnavailableMessage(path, searchMapped, failures) : null;
            Volatile.Write(ref loaded, true);
            return reason;
        }
    }

    /// <summary>The loaded library, or <see cref="NcclUnavailableException"/> naming <paramref name="call"/>.</summary>
    internal static Api Require(string call) =>
        Current ?? throw new NcclUnavailableException($"{call}: {Reason}");

    /// <summary>Like <see cref="Load(string?)"/>, for the CUDA runtime (ENGINE_CUDART_LIBRARY).</summary>
    internal static string? LoadCudaRuntime(string? path)
    {
        lock (Gate)
        {
            var failures = new List<string>();
            CudaRuntime? found = null;
            var candidates = !string.IsNullOrWhiteSpace(path)
                ? new List<(string Name, string Label)> { (path, $"{CudaRuntimeVariable}={path}") }
                : CudaRuntimeNames.Select(n => (Name: n, Label: n)).ToList();
            if (string.IsNullOrWhiteSpace(path) && FindMapped("libcudart") is { } mapped)
                candidates.Add((mapped, $"{mapped} (already mapped into this process)"));
            foreach (var (name, label) in candidates)
            {
                if (!TryOpen(name, label, failures, out var handle)) continue;
                if (!NativeLibrary.TryGetExport(handle, "cudaSetDevice", out var setDevice))
                {
                    failures.Add($"{label}: loaded, but it exports no cudaSetDevice");
                    continue;
                }
                NativeLibrary.TryGetExport(handle, "cudaGetErrorString", out var errorString);
                found = new CudaRuntime
                {
                    Path = label,
                    SetDevice = (delegate* unmanaged[Cdecl]<int, int>)setDevice,
                    GetErrorString = (delegate* unmanaged[Cdecl]<int, IntPtr>)errorString,
                };
                break;
            }
            cudart = found;
            cudaReason = found is null
                ? $"the CUDA runtime could not be loaded (needed for cudaSetDevice before NCCL binds a communicator to a GPU). Tried: {string.Join("; ", failures)}. It ships with CUDA builds of libtorch/TorchSharp and with the CUDA toolkit; set {CudaRuntimeVariable} to the full path of libcudart.so.*."
                : null;
            Volatile.Write(ref cudaLoaded, true);
            return cudaReason;
        }
    }

    /// <summary>The CUDA runtime, or <see cref="NcclUnavailableException"/> naming <paramref name="call"/>.</summary>
    internal static CudaRuntime RequireCudaRuntime(string call)
    {
        if (!Volatile.Read(ref cudaLoaded))
            lock (Gate)
                if (!cudaLoaded) LoadCudaRuntime(Environment.GetEnvironmentVariable(CudaRuntimeVariable));
        return cudart ?? throw new NcclUnavailableException($"{call}: {cudaReason}");
    }

    /// <summary>NCCL_VERSION(X,Y,Z) in nccl.h is X*1000 + Y*100 + Z up to 2.8 and X*10000 + Y*100 + Z
    /// from 2.9 on (2.8.4 = 2804, 2.18.1 = 21801): codes of five digits use the new layout.</summary>
    internal static Version DecodeVersion(int code) =>
        code >= 10000 ? new Version(code / 10000, code / 100 % 100, code % 100)
                      : new Version(code / 1000, code / 100 % 10, code % 100);

    static Api? TryBind(string name, string label, List<string> failures)
    {
        if (!TryOpen(name, label, failures, out var handle)) return null;
        var missing = new List<string>();
        IntPtr Get(string symbol, bool optional = false)
        {
            if (NativeLibrary.TryGetExport(handle, symbol, out var f)) return f;
            if (!optional) missing.Add(symbol);
            return IntPtr.Zero;
        }
        var getVersion = (delegate* unmanaged[Cdecl]<int*, int>)Get("ncclGetVersion");
        var getUniqueId = Get("ncclGetUniqueId");
        var commInitRank = Get("ncclCommInitRank");
        var commDestroy = Get("ncclCommDestroy");
        var commAbort = Get("ncclCommAbort");
        var commGetAsyncError = Get("ncclCommGetAsyncError");
        var getErrorString = Get("ncclGetErrorString");
        var getLastError = Get("ncclGetLastError", optional: true);
        var allReduce = Get("ncclAllReduce");
        var broadcast = Get("ncclBroadcast");
        var allGather = Get("ncclAllGather");
        var reduceScatter = Get("ncclReduceScatter");
        var groupStart = Get("ncclGroupStart");
        var groupEnd = Get("ncclGroupEnd");
        if (missing.Count > 0)
        {
            failures.Add($"{label}: loaded, but it lacks {string.Join(", ", missing)} (not NCCL 2.x, or older than 2.4)");
            return null;
        }
        int code = 0;
        int r = getVersion(&code);
        if (r != Success)
        {
            failures.Add($"{label}: ncclGetVersion returned {r}");
            return null;
        }
        return new Api
        {
            Path = label,
            VersionCode = code,
            Version = DecodeVersion(code),
            GetVersion = getVersion,
            GetUniqueId = (delegate* unmanaged[Cdecl]<UniqueId*, int>)getUniqueId,
            CommInitRank = (delegate* unmanaged[Cdecl]<IntPtr*, int, UniqueId, int, int>)commInitRank,
            CommDestroy = (delegate* unmanaged[Cdecl]<IntPtr, int>)commDestroy,
            CommAbort = (delegate* unmanaged[Cdecl]<IntPtr, int>)commAbort,
            CommGetAsyncError = (delegate* unmanaged[Cdecl]<IntPtr, int*, int>)commGetAsyncError,
            GetErrorString = (delegate* unmanaged[Cdecl]<int, IntPtr>)getErrorString,
            GetLastError = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr>)getLastError,
            AllReduce = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)allReduce,
            Broadcast = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)broadcast,
            AllGather = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, IntPtr, IntPtr, int>)allGather,
            ReduceScatter = (delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)reduceScatter,
            GroupStart = (delegate* unmanaged[Cdecl]<int>)groupStart,
            GroupEnd = (delegate* unmanaged[Cdecl]<int>)groupEnd,
        };
    }

    static bool TryOpen(string name, string label, List<string> failures, out IntPtr handle)
    {
        handle = IntPtr.Zero;
        try
        {
            handle = NativeLibrary.Load(name);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or BadImageFormatException or ArgumentException)
        {
            // dlopen's own words (not found, wrong ELF class, missing dependency), on one line.
            string why = e.Message.ReplaceLineEndings(" ").Trim();
            failures.Add($"{label}: {(why.Length > 400 ? why[..400] + "..." : why)}");
            return false;
        }
    }

    /// <summary>A library whose file name starts with <paramref name="stem"/> that this process
    /// has already mapped (Linux), e.g. the libcudart libtorch_cuda loaded under a hashed name.</summary>
    static string? FindMapped(string stem)
    {
        try
        {
            if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/maps")) return null;
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash < 0) continue;
                string file = line[slash..].Trim();
                string fileName = System.IO.Path.GetFileName(file);
                if (fileName.StartsWith(stem, StringComparison.Ordinal) && fileName.Contains(".so")) return file;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    static string UnavailableMessage(string? path, bool searchedMapped, List<string> failures)
    {
        string tried = string.IsNullOrWhiteSpace(path)
            ? $"tried {string.Join(", ", LibraryNames)}{(searchedMapped ? " and any libnccl already mapped into this process" : "")}"
            : $"tried only {LibraryVariable}={path} (the override replaces the default names {string.Join(", ", LibraryNames)})";
        string platform = OperatingSystem.IsLinux() ? "" : " NCCL exists for Linux only; on this OS use the MPI process group.";
        return $"NCCL is not available: {tried}. {string.Join("; ", failures)}.{platform} " +
               "NCCL ships with the CUDA builds of PyTorch and TorchSharp (libtorch-cuda; pip's nvidia-nccl-cu12 " +
               "puts libnccl.so.2 under site-packages/nvidia/nccl/lib) and as NVIDIA's libnccl2 package " +
               "(apt, from NVIDIA's CUDA repository). To use a given copy, set " +
               $"{LibraryVariable}=/full/path/to/libnccl.so.2 before the first NCCL call.";
    }
}
