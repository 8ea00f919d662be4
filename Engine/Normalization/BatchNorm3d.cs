namespace Engine.Normalization;

/// <summary>
/// <see cref="BatchNorm"/> over a 5D (N, C, D, H, W) input. Volumetric batch normalization: x : N × C × D × H × W, μ, σ : 1 × C × 1 × 1 × 1, per channel over the batch and every voxel.
/// </summary>
public sealed class BatchNorm3d : BatchNorm
{
    public BatchNorm3d(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true,
        bool track_running_stats = true, Device? device = null, ScalarType? dtype = null)
        : base(nameof(BatchNorm3d), num_features, eps, momentum, affine, track_running_stats, device, dtype) { }

    protected override (long[] Ranks, string Expected) InputRanks => ([5], "a 5D (N, C, D, H, W) input");
}
