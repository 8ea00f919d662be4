namespace Engine.Distributed;

/// <summary>An NCCL call was made but libnccl (or the CUDA runtime it needs) could not be loaded.
/// The message lists the names or path tried, what dlopen said, that NCCL ships with the CUDA
/// builds of PyTorch/TorchSharp and as NVIDIA's libnccl2 package, and how to set
/// ENGINE_NCCL_LIBRARY. Check <see cref="Nccl.IsAvailable"/> first to choose another backend.</summary>
public sealed class NcclUnavailableException : DistributedException
{
    public NcclUnavailableException(string message) : base(message) { }
}
