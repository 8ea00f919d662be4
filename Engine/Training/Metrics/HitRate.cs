namespace Engine.Training.Metrics;

/// <summary>
/// A fraction of samples that hit (<see cref="Accuracy"/>, <see cref="TopKAccuracy"/>):
/// <c>rate = correct / N</c>, the count of hits kept on device (int64), N on the host.
/// </summary>
public abstract class HitRate : Metric
{
    Tensor? _correct;
    long _count;

    /// <summary>The name <see cref="Compute"/> reports.</summary>
    public abstract string Name { get; }
    public override IReadOnlyList<string> Names => [Name];

    /// <summary>Adds a batch's hits (booleans, one per sample or position).</summary>
    protected void AddHits(Tensor hits)
    {
        Accumulate(ref _correct, hits.sum(ScalarType.Int64));
        _count += hits.numel();
    }

    public override IReadOnlyDictionary<string, double> Compute() =>
        new Dictionary<string, double> { [Name] = _correct is null || _count == 0 ? double.NaN : _correct.item<long>() / (double)_count };

    public override void Synchronize(Distributed.ProcessGroup group)
    {
        var v = SumAcross(group, Value(_correct), _count);
        Set(ref _correct, v[0], ScalarType.Int64);
        _count = (long)v[1];
    }

    public override void Reset()
    {
        Free(ref _correct);
        _count = 0;
    }
}
