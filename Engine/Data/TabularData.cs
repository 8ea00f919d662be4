namespace Engine.Data;

/// <summary>
/// A tabular data set in memory: features float32 [N, F] and targets [N] (int64 class indices,
/// or float32 for regression). The tensors belong to this object (not to any dispose scope):
/// dispose it when done. Standardize features with <see cref="StandardScaler"/> fitted on the
/// training split.
/// </summary>
public sealed class TabularData : IDisposable
{
    public Tensor Features { get; }
    public Tensor Targets { get; }
    /// <summary>Class names, index i for class i; empty for regression targets.</summary>
    public IReadOnlyList<string> TargetNames { get; }
    public long Count => Targets.shape[0];

    public TabularData(Tensor features, Tensor targets, IReadOnlyList<string> targetNames)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        TensorDataset.Check(features, targets, nameof(TabularData));
        Features = features.DetachFromDisposeScope();
        Targets = targets.DetachFromDisposeScope();
        TargetNames = targetNames ?? [];
    }

    /// <summary>A data set over <see cref="Features"/> and <see cref="Targets"/> (no copy; valid while this object is).</summary>
    public TensorDataset ToDataset() => new(Features, Targets);

    public void Dispose()
    {
        Features.Dispose();
        Targets.Dispose();
    }
}
