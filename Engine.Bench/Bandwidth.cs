namespace Engine.Bench;

/// <summary>
/// The memory-traffic floor of an optimizer step: a step over n fp32 parameters must move a
/// fixed number of bytes (Adam and AdamW read p, g, m, v and write p, m, v: 7 × 4 = 28 B per
/// parameter; SGD with momentum reads p, g, buf and writes p, buf: 20 B), so no implementation
/// beats bytes / bandwidth once the tensors are too large for the caches. The bandwidth is
/// measured at the same thread count as the step, three ways over 200 MB float32 tensors:
/// <list type="bullet">
/// <item><c>a.add_(b)</c>: reads a and b, writes a (600 MB counted). Every line it writes it has
/// just read, as an optimizer step does (p, m, v are read, then written), so this is the
/// bandwidth the floor uses;</item>
/// <item><c>dst.copy_(src)</c> (400 MB counted: read + write). Writing lines it never read costs
/// the CPU a read for ownership of each, traffic that is not counted, so this figure comes out
/// lower than what the optimizer's pattern gets;</item>
/// <item><c>Buffer.MemoryCopy</c> on one thread, the same copy without libtorch.</item>
/// </list>
/// </summary>
static class Bandwidth
{
    public const long Elements = 50_000_000; // 200 MB of float32

    /// <summary>Bytes moved per parameter by one fp32 step of each optimizer.</summary>
    public static readonly Dictionary<string, int> BytesPerParameter = new()
    {
        ["adam"] = 28,
        ["adamw"] = 28,
        ["sgdm"] = 20,
    };

    public static void Run(Harness h)
    {
        Console.WriteLine($"memory bandwidth ({Elements * 4 / 1_000_000} MB float32 tensors, bytes read + written):");
        using var src = rand(Elements);
        using var dst = zeros(Elements);
        var add = h.Measure("add_", "bandwidth", "a.add_(b), 200 MB float32 each, libtorch (read a, b; write a)", 3, k =>
        {
            for (int i = 0; i < k; i++) dst.add_(src);
        });
        var copy = h.Measure("copy_", "bandwidth", "dst.copy_(src), 200 MB float32, libtorch", 3, k =>
        {
            for (int i = 0; i < k; i++) dst.copy_(src);
        });
        var memcpy = h.Measure("memcpy", "bandwidth", "Buffer.MemoryCopy of 200 MB, one thread", 3, k =>
        {
            unsafe
            {
                long bytes = Elements * 4;
                fixed (byte* s = src.bytes)
                fixed (byte* d = dst.bytes)
                    for (int i = 0; i < k; i++) Buffer.MemoryCopy(s, d, bytes, bytes);
            }
        });
        foreach (var (r, moves) in new[] { (add, 3.0), (copy, 2.0), (memcpy, 2.0) })
        {
            r.Extra["bytes"] = moves * Elements * 4;
            r.Extra["gb_per_s_median"] = moves * Elements * 4 / r.Median / 1e9;
            r.Extra["gb_per_s_max"] = moves * Elements * 4 / r.Min / 1e9;
            Console.WriteLine($"    {r.Name}: {r.Extra["gb_per_s_median"]:F1} GB/s median, {r.Extra["gb_per_s_max"]:F1} GB/s best");
        }
    }
}
