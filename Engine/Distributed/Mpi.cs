using System.Runtime.InteropServices;

namespace Engine.Distributed;

/// <summary>
/// The MPI calls Engine needs, bound by function pointer to Open MPI's <c>libmpi.so.40</c> (Debian's
/// <c>openmpi-bin</c>). Handles follow Open MPI's ABI (mpi.h 4.1): a communicator, datatype, op or
/// request is a pointer, and the predefined ones are the addresses of exported globals
/// (<c>MPI_COMM_WORLD</c> is <c>&amp;ompi_mpi_comm_world</c>, <c>MPI_FLOAT</c> <c>&amp;ompi_mpi_float</c>...);
/// <c>MPI_IN_PLACE</c> is <c>(void*)1</c> and <c>MPI_STATUS_IGNORE</c> is null. MPICH and its
/// derivatives use integer handles: they are refused by name (no <c>ompi_</c> symbols) rather than
/// misread. Only nonblocking collectives are bound: every wait polls <c>MPI_Test</c> against a
/// deadline, so a dead or stuck rank becomes an exception instead of a hang.
/// <para>Why not the MPI.NET package (served on NuGet): its API moves .NET objects and arrays; the
/// dozen calls here move tensor memory by pointer with requests polled against a deadline, which
/// is all Engine needs and is checkable against mpi.h line by line.</para>
/// </summary>
internal static unsafe class Mpi
{
    public const int Success = 0;
    public const int ThreadSerialized = 2; // mpi.h: MPI_THREAD_SERIALIZED
    public const int MaxErrorString = 256;  // mpi.h: MPI_MAX_ERROR_STRING (OPAL_MAX_ERROR_STRING)
    public static readonly IntPtr InPlace = 1; // mpi.h: #define MPI_IN_PLACE ((void *) 1)

    static readonly object Gate = new();
    static IntPtr _lib;
    static string? _failure;

    // Predefined handles: addresses of Open MPI's exported objects.
    public static IntPtr CommWorld, ErrorsReturn;
    public static IntPtr Byte, Float, Double, Int8, UInt8, Int32, Int64;
    public static IntPtr OpSum, OpMax, OpMin, OpProd;

    public static delegate* unmanaged<int*, int> Initialized;
    public static delegate* unmanaged<int*, int> Finalized;
    public static delegate* unmanaged<IntPtr, IntPtr, int, int*, int> InitThread;
    public static delegate* unmanaged<int> Finalize;
    public static delegate* unmanaged<IntPtr, int, int> Abort;
    public static delegate* unmanaged<IntPtr, int*, int> CommRank;
    public static delegate* unmanaged<IntPtr, int*, int> CommSize;
    public static delegate* unmanaged<IntPtr, IntPtr*, int> CommDup;
    public static delegate* unmanaged<IntPtr, IntPtr, int> CommSetErrhandler;
    public static delegate* unmanaged<int, byte*, int*, int> ErrorString;
    public static delegate* unmanaged<byte*, int*, int> GetLibraryVersion;
    public static delegate* unmanaged<IntPtr*, int*, IntPtr, int> Test;
    public static delegate* unmanaged<IntPtr*, int> Cancel;
    public static delegate* unmanaged<IntPtr*, int> RequestFree;
    // int MPI_Isend(const void *buf, int count, MPI_Datatype, int dest, int tag, MPI_Comm, MPI_Request *)
    public static delegate* unmanaged<IntPtr, int, IntPtr, int, int, IntPtr, IntPtr*, int> Isend;
    // int MPI_Irecv(void *buf, int count, MPI_Datatype, int source, int tag, MPI_Comm, MPI_Request *)
    public static delegate* unmanaged<IntPtr, int, IntPtr, int, int, IntPtr, IntPtr*, int> Irecv;
    // int MPI_Iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype, MPI_Op, MPI_Comm, MPI_Request *)
    public static delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, IntPtr*, int> Iallreduce;
    // int MPI_Ibcast(void *buffer, int count, MPI_Datatype, int root, MPI_Comm, MPI_Request *)
    public static delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, IntPtr*, int> Ibcast;
    // int MPI_Iallgather(const void *sendbuf, int sendcount, MPI_Datatype, void *recvbuf, int recvcount, MPI_Datatype, MPI_Comm, MPI_Request *)
    public static delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr*, int> Iallgather;
    // int MPI_Ireduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount, MPI_Datatype, MPI_Op, MPI_Comm, MPI_Request *)
    public static delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, IntPtr*, int> IreduceScatterBlock;
    // int MPI_Ibarrier(MPI_Comm, MPI_Request *)
    public static delegate* unmanaged<IntPtr, IntPtr*, int> Ibarrier;

    [DllImport("libc", EntryPoint = "dlopen")]
    static extern IntPtr DlOpen(string file, int mode);

    [DllImport("libc", EntryPoint = "dlerror")]
    static extern IntPtr DlError();

    const int RtldNow = 2, RtldGlobal = 0x100;

    /// <summary>The library names tried, in order: <c>ENGINE_MPI_LIBRARY</c> alone when set, else
    /// Open MPI 4's soname and the development link.</summary>
    internal static string[] Candidates() =>
        Environment.GetEnvironmentVariable("ENGINE_MPI_LIBRARY") is { Length: > 0 } path ? [path] : ["libmpi.so.40", "libmpi.so"];

    /// <summary>Loads the library once; throws <see cref="DistributedException"/> naming what was
    /// tried and how to install it. Nothing native runs before the library is found.</summary>
    public static void Load()
    {
        lock (Gate)
        {
            if (_lib != IntPtr.Zero) return;
            if (_failure is not null) throw new DistributedException(_failure);
            if (!OperatingSystem.IsLinux())
                throw new DistributedException(_failure = "Engine.Distributed: MPI is bound to Open MPI on Linux only");
            var errors = new List<string>();
            IntPtr lib = IntPtr.Zero;
            foreach (var name in Candidates())
            {
                // RTLD_GLOBAL: Open MPI's plugins (mca_*.so) resolve libmpi's symbols from the
                // global namespace, as mpi4py loads it.
                lib = DlOpen(name, RtldNow | RtldGlobal);
                if (lib != IntPtr.Zero) break;
                errors.Add(Marshal.PtrToStringAnsi(DlError()) ?? name);
            }
            if (lib == IntPtr.Zero)
                throw new DistributedException(_failure =
                    $"Engine.Distributed: Open MPI's library was not found (tried {string.Join(", ", Candidates())}: {string.Join("; ", errors)}). " +
                    "Install it (Debian/Ubuntu: apt-get install openmpi-bin), or set ENGINE_MPI_LIBRARY to libmpi.so's path, and start the ranks with scripts/launch.sh N <command> (mpirun).");
            if (!NativeLibrary.TryGetExport(lib, "ompi_mpi_comm_world", out CommWorld))
                throw new DistributedException(_failure =
                    "Engine.Distributed: the MPI library found is not Open MPI (no ompi_mpi_comm_world symbol); Engine binds Open MPI's ABI (pointer handles), not MPICH's integer handles. Install openmpi-bin or point ENGINE_MPI_LIBRARY at Open MPI's libmpi.so.40.");
            IntPtr Sym(string name) => NativeLibrary.GetExport(lib, name);
            ErrorsReturn = Sym("ompi_mpi_errors_return");
            Byte = Sym("ompi_mpi_byte"); Float = Sym("ompi_mpi_float"); Double = Sym("ompi_mpi_double");
            Int8 = Sym("ompi_mpi_int8_t"); UInt8 = Sym("ompi_mpi_uint8_t"); Int32 = Sym("ompi_mpi_int32_t"); Int64 = Sym("ompi_mpi_int64_t");
            OpSum = Sym("ompi_mpi_op_sum"); OpMax = Sym("ompi_mpi_op_max"); OpMin = Sym("ompi_mpi_op_min"); OpProd = Sym("ompi_mpi_op_prod");
            Initialized = (delegate* unmanaged<int*, int>)Sym("MPI_Initialized");
            Finalized = (delegate* unmanaged<int*, int>)Sym("MPI_Finalized");
            InitThread = (delegate* unmanaged<IntPtr, IntPtr, int, int*, int>)Sym("MPI_Init_thread");
            Finalize = (delegate* unmanaged<int>)Sym("MPI_Finalize");
            Abort = (delegate* unmanaged<IntPtr, int, int>)Sym("MPI_Abort");
            CommRank = (delegate* unmanaged<IntPtr, int*, int>)Sym("MPI_Comm_rank");
            CommSize = (delegate* unmanaged<IntPtr, int*, int>)Sym("MPI_Comm_size");
            CommDup = (delegate* unmanaged<IntPtr, IntPtr*, int>)Sym("MPI_Comm_dup");
            CommSetErrhandler = (delegate* unmanaged<IntPtr, IntPtr, int>)Sym("MPI_Comm_set_errhandler");
            ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Sym("MPI_Error_string");
            GetLibraryVersion = (delegate* unmanaged<byte*, int*, int>)Sym("MPI_Get_library_version");
            Test = (delegate* unmanaged<IntPtr*, int*, IntPtr, int>)Sym("MPI_Test");
            Cancel = (delegate* unmanaged<IntPtr*, int>)Sym("MPI_Cancel");
            RequestFree = (delegate* unmanaged<IntPtr*, int>)Sym("MPI_Request_free");
            Isend = (delegate* unmanaged<IntPtr, int, IntPtr, int, int, IntPtr, IntPtr*, int>)Sym("MPI_Isend");
            Irecv = (delegate* unmanaged<IntPtr, int, IntPtr, int, int, IntPtr, IntPtr*, int>)Sym("MPI_Irecv");
            Iallreduce = (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, IntPtr*, int>)Sym("MPI_Iallreduce");
            Ibcast = (delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, IntPtr*, int>)Sym("MPI_Ibcast");
            Iallgather = (delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr*, int>)Sym("MPI_Iallgather");
            IreduceScatterBlock = (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, IntPtr*, int>)Sym("MPI_Ireduce_scatter_block");
            Ibarrier = (delegate* unmanaged<IntPtr, IntPtr*, int>)Sym("MPI_Ibarrier");
            _lib = lib;
        }
    }

    /// <summary>MPI's text for an error code.</summary>
    public static string Describe(int code)
    {
        var buf = stackalloc byte[MaxErrorString + 1];
        int len = 0;
        if (ErrorString(code, buf, &len) != Success) return $"MPI error {code}";
        return $"MPI error {code}: {Marshal.PtrToStringAnsi((IntPtr)buf, Math.Clamp(len, 0, MaxErrorString))}";
    }

    /// <summary>Throws a <see cref="DistributedException"/> naming <paramref name="call"/> unless <paramref name="rc"/> is success.</summary>
    public static void Check(int rc, string call)
    {
        if (rc != Success) throw new DistributedException($"{call} failed: {Describe(rc)}");
    }

    /// <summary>The library's own version line (MPI_Get_library_version).</summary>
    public static string LibraryVersion()
    {
        var buf = stackalloc byte[8192]; // MPI_MAX_LIBRARY_VERSION_STRING is 256 in Open MPI; generous
        int len = 0;
        Check(GetLibraryVersion(buf, &len), "MPI_Get_library_version");
        return Marshal.PtrToStringAnsi((IntPtr)buf, Math.Clamp(len, 0, 8191)).Trim('\0', ' ', '\n');
    }
}
