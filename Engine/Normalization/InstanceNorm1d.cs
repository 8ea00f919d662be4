namespace Engine.Normalization;

/// <summary><see cref="InstanceNorm"/> over (N, C, L) or unbatched (C, L) inputs: statistics per sample and channel over (L).</summary>
public sealed class InstanceNorm1d : InstanceNorm
{
    public InstanceNorm1d(long num_features, double eps = 1e-5, double momentum = 0.1, bool affine = false,
        bool track_running_stats = false, Device? device = null, ScalarType? dtype = null)
        : base(nameof(InstanceNorm1d), num_features, eps, momentum, affine, track_running_stats, device, dtype) { }

    protected override int SpatialDims => 1;
}
