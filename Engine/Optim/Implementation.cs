namespace Engine.Optim;

/// <summary>How an optimizer performs its update. All give the same results to rounding; tests
/// hold them equal to the readable path.</summary>
public enum Implementation
{
    /// <summary>Fused on CPU (float32/64, contiguous), flat on CUDA, else readable.</summary>
    Auto,
    /// <summary>Per-parameter tensor ops that read like the paper's pseudo-code.</summary>
    Readable,
    /// <summary>One SIMD sweep over each CPU parameter's memory, split across cores when large.</summary>
    Fused,
    /// <summary>Parameters and gradients as views of one flat buffer per dtype and device, so a step
    /// is a handful of large tensor ops whatever the tensor count (TorchSharp has no _foreach_ ops;
    /// this is apex's and DDP's gradient-as-bucket-view approach).</summary>
    Flat,
}
