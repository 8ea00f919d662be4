namespace Engine;

/// <summary>Facts about the TorchSharp runtime Engine runs on.</summary>
public static class Runtime
{
    /// <summary>The device tensors go to by default: CUDA when libtorch sees a GPU, else CPU;
    /// ENGINE_DEVICE=cpu|cuda|cuda:N overrides it.</summary>
    public static Device DefaultDevice
    {
        get
        {
            var requested = Environment.GetEnvironmentVariable("ENGINE_DEVICE");
            if (!string.IsNullOrWhiteSpace(requested)) return new Device(requested);
            return cuda.is_available() ? CUDA : CPU;
        }
    }

    /// <summary>libtorch's version as TorchSharp reports it (e.g. 2.10.0).</summary>
    public static string LibTorchVersion => __version__;
}
