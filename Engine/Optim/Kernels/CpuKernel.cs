namespace Engine.Optim.Kernels;

/// <summary>Splits a fused optimizer update over the cores when a tensor is large enough to pay
/// for the hand-off; small tensors run on the calling thread with no allocation.</summary>
internal static class CpuKernel
{
    /// <summary>Below this many elements one core finishes before others would start.</summary>
    internal const int ParallelThreshold = 1 << 16;

    internal static readonly int Workers = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Runs body(start, length) over [0, n) in chunks aligned to 64 elements.</summary>
    internal static void For<TState>(long n, in TState state, Action<TState, long, long> body)
    {
        if (n < ParallelThreshold || Workers == 1)
        {
            body(state, 0, n);
            return;
        }
        int chunks = Workers;
        long size = ((n + chunks - 1) / chunks + 63) & ~63L;
        var s = state;
        Parallel.For(0, chunks, c =>
        {
            long start = c * size;
            if (start < n) body(s, start, Math.Min(size, n - start));
        });
    }
}
