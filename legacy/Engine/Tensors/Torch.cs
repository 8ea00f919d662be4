using Engine.Interop;

namespace Engine;

/// <summary>
/// The engine's entry point, PyTorch's <c>torch.</c> namespace in .NET names: factories
/// (<see cref="Zeros(long[])"/>, <see cref="Randn(long[])"/>...), seeds, devices and grad mode.
/// </summary>
public static partial class Torch
{
    static Device? s_defaultDevice;

    /// <summary>Where factories put tensors when no device is given: CUDA when available,
    /// else CPU. The environment variable ENGINE_DEVICE (cpu, cuda, cuda:N) overrides the guess.</summary>
    public static Device DefaultDevice
    {
        get => s_defaultDevice ??= GuessDevice();
        set => s_defaultDevice = value;
    }

    /// <summary>The floating dtype of factories when none is given (float32, as in PyTorch).</summary>
    public static ScalarType DefaultDType { get; set; } = ScalarType.Float32;

    static Device GuessDevice()
    {
        var env = Environment.GetEnvironmentVariable("ENGINE_DEVICE");
        if (!string.IsNullOrWhiteSpace(env)) return Device.Parse(env);
        return Cuda.IsAvailable ? Device.CUDA(0) : Device.CPU;
    }

    /// <summary>The libtorch version the native shim was built against.</summary>
    public static string LibTorchVersion =>
        System.Runtime.InteropServices.Marshal.PtrToStringUTF8(Native.eng_torch_version()) ?? "?";

    /// <summary>Seeds every device's default generator (torch.manual_seed): the same seed gives
    /// the same numbers as Python PyTorch on CPU.</summary>
    public static void ManualSeed(ulong seed) => Native.Check(Native.eng_manual_seed(seed), "manual_seed");

    /// <summary>Intra-op threads libtorch uses on CPU.</summary>
    public static int NumThreads
    {
        get => Native.eng_get_num_threads();
        set => Native.eng_set_num_threads(value);
    }

    /// <summary>CUDA facts.</summary>
    public static class Cuda
    {
        public static bool IsAvailable => Native.eng_cuda_is_available() != 0;
        public static int DeviceCount => Native.eng_cuda_device_count();
        public static void ManualSeedAll(ulong seed) => Native.Check(Native.eng_cuda_manual_seed_all(seed), "cuda.manual_seed_all");
        /// <summary>Waits for every kernel queued on the device (-1: current device).</summary>
        public static void Synchronize(int device = -1) => Native.Check(Native.eng_cuda_synchronize(device), "cuda.synchronize");
    }

    /// <summary>Whether operations record the autograd graph on this thread.</summary>
    public static bool IsGradEnabled
    {
        get => Native.eng_grad_enabled() != 0;
        set => Native.eng_set_grad_enabled(value ? 1 : 0);
    }

    /// <summary>Disables autograd recording until disposed (torch.no_grad()).</summary>
    public static GradModeScope NoGrad() => new(false);

    /// <summary>Enables autograd recording until disposed (torch.enable_grad()).</summary>
    public static GradModeScope EnableGrad() => new(true);

    /// <summary>Opens a <see cref="DisposeScope"/> (torch's lack of one is why TorchSharp users leak).</summary>
    public static DisposeScope NewDisposeScope() => DisposeScope.Begin();
}

/// <summary>Sets grad mode for a block and restores the previous mode when disposed.</summary>
public readonly struct GradModeScope : IDisposable
{
    readonly bool _previous;
    internal GradModeScope(bool enabled)
    {
        _previous = Torch.IsGradEnabled;
        Torch.IsGradEnabled = enabled;
    }
    public void Dispose() => Torch.IsGradEnabled = _previous;
}
