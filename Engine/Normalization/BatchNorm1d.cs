namespace Engine.Normalization;

/// <summary>
/// <see cref="BatchNorm"/> over (N, C) or (N, C, L) inputs: statistics per feature C over N (and L).
/// The seed's "Batch Normalization for fully-connected networks", x : N × D, μ, σ : 1 × D.
/// </summary>
public sealed class BatchNorm1d : BatchNorm
{
    public BatchNorm1d(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true,
        bool track_running_stats = true, Device? device = null, ScalarType? dtype = null)
        : base(nameof(BatchNorm1d), num_features, eps, momentum, affine, track_running_stats, device, dtype) { }

    protected override (long[] Ranks, string Expected) InputRanks => ([2, 3], "a 2D (N, C) or 3D (N, C, L) input");
}
