namespace Engine.Normalization;

/// <summary><see cref="InstanceNorm"/> over (N, C, D, H, W) or unbatched (C, D, H, W) inputs: statistics per sample and channel over (D, H, W).</summary>
public sealed class InstanceNorm3d : InstanceNorm
{
    public InstanceNorm3d(long num_features, double eps = 1e-5, double momentum = 0.1, bool affine = false,
        bool track_running_stats = false, Device? device = null, ScalarType? dtype = null)
        : base(nameof(InstanceNorm3d), num_features, eps, momentum, affine, track_running_stats, device, dtype) { }

    protected override int SpatialDims => 3;
}
