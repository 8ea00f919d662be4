namespace Engine.Optim;

/// <summary>How an optimizer performs its update. All give the same results to rounding; tests
/// hold them equal.</summary>
public enum Implementation
{
    /// <summary>Multi-tensor on CUDA, fused single-pass on CPU (float32/64, contiguous), else readable.</summary>
    Auto,
    /// <summary>Per-parameter tensor ops that read like the paper's pseudo-code.</summary>
    Readable,
    /// <summary>libtorch's multi-tensor _foreach_* ops: a few kernel launches for the whole group.</summary>
    Foreach,
    /// <summary>One SIMD sweep over each CPU parameter's memory, split across cores when large.</summary>
    Fused,
}
