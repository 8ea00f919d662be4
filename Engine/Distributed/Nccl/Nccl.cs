namespace Engine.Distributed;

/// <summary>Whether NVIDIA's NCCL library can be used in this process, and why not. Asking
/// never throws and never crashes: the library is looked up once (ENGINE_NCCL_LIBRARY, else
/// libnccl.so.2, libnccl.so; see <see cref="NcclCommunicator"/>).</summary>
/// <remarks>Untested on a GPU: no CUDA device or libnccl was available in the session that wrote
/// this; its bindings are checked against a fake libnccl compiled from nccl.h's declarations.</remarks>
public static class Nccl
{
    /// <summary>True when a libnccl with every entry point Engine uses was loaded.</summary>
    public static bool IsAvailable => NcclNative.Current is not null;

    /// <summary>Null when <see cref="IsAvailable"/>; else the library names or path tried, what
    /// each attempt said, where NCCL comes from and how to point ENGINE_NCCL_LIBRARY at it.</summary>
    public static string? UnavailableReason => NcclNative.Reason;

    /// <summary>The loaded NCCL's version (ncclGetVersion, decoded), or null when unavailable.</summary>
    public static Version? Version => NcclNative.Current?.Version;

    /// <summary>Which file was loaded (the name or path tried), or null when unavailable.</summary>
    public static string? LibraryPath => NcclNative.Current?.Path;
}
