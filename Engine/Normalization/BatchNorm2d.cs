namespace Engine.Normalization;

/// <summary>
/// <see cref="BatchNorm"/> over a 4D (N, C, H, W) input. The seed's "Spatial Batchnorm, BatchNorm2D": x : N × C × H × W, μ, σ : 1 × C × 1 × 1, one mean and variance per channel over the batch and every pixel.
/// </summary>
public sealed class BatchNorm2d : BatchNorm
{
    public BatchNorm2d(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true,
        bool track_running_stats = true, Device? device = null, ScalarType? dtype = null)
        : base(nameof(BatchNorm2d), num_features, eps, momentum, affine, track_running_stats, device, dtype) { }

    protected override (long[] Ranks, string Expected) InputRanks => ([4], "a 4D (N, C, H, W) input");
}
