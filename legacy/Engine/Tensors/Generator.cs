using Engine.Interop;

namespace Engine;

/// <summary>A random number generator of its own (torch.Generator): pass it to random
/// factories and in-place samplers to draw from a stream independent of the global seed.</summary>
public sealed class Generator : IDisposable
{
    nint _handle;
    public Device Device { get; }

    public Generator(ulong seed = 67280421310721UL, Device? device = null)
    {
        Device = device ?? Device.CPU;
        _handle = Native.Check(Native.eng_generator_new((int)Device.Type, Device.Index, seed), "Generator");
    }

    internal nint Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(Generator));

    /// <summary>Re-seeds the generator (generator.manual_seed).</summary>
    public Generator ManualSeed(ulong seed)
    {
        Native.Check(Native.eng_generator_set_seed(Handle, seed), "Generator.manual_seed");
        return this;
    }

    /// <summary>The seed it was last seeded with (generator.initial_seed).</summary>
    public ulong InitialSeed => Native.eng_generator_seed(Handle);

    public void Dispose()
    {
        var h = Interlocked.Exchange(ref _handle, 0);
        if (h != 0) Native.eng_generator_free(h);
        GC.SuppressFinalize(this);
    }

    ~Generator()
    {
        var h = Interlocked.Exchange(ref _handle, 0);
        if (h != 0) Native.eng_generator_free(h);
    }
}
