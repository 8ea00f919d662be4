namespace Engine.Training.Metrics;

/// <summary>
/// A weighted mean of per-batch values, mean = Σ wᵢ·vᵢ / Σ wᵢ: the epoch loss as Keras reports it
/// (each batch's mean loss weighted by its sample count, so a smaller last batch counts less).
/// The weights are host numbers (a batch size is known without a sync); the sum stays on device.
/// </summary>
public sealed class Mean(string name) : Metric
{
    Tensor? _sum;
    double _weight;

    public string Name { get; } = name ?? throw new ArgumentNullException(nameof(name));
    public override IReadOnlyList<string> Names => [Name];

    /// <summary>Adds a scalar tensor <paramref name="value"/> with weight <paramref name="weight"/>.</summary>
    public void Update(Tensor value, double weight)
    {
        if (value.numel() != 1) throw new ArgumentException($"Mean '{Name}': the value must be a scalar, got {Shape(value)}", nameof(value));
        if (!(weight >= 0)) throw new ArgumentOutOfRangeException(nameof(weight), weight, $"Mean '{Name}': the weight must be non-negative");
        using var _ = NewDisposeScope();
        Accumulate(ref _sum, value.detach().reshape([]).to(ScalarType.Float64).mul(weight));
        _weight += weight;
    }

    /// <summary>The metric interface: the value is <paramref name="prediction"/>, weighted by 1 (target unused).</summary>
    public override void Update(Tensor prediction, Tensor target) => Update(prediction, 1.0);

    public override IReadOnlyDictionary<string, double> Compute() =>
        new Dictionary<string, double> { [Name] = _sum is null || _weight == 0 ? double.NaN : _sum.item<double>() / _weight };

    public override void Synchronize(Distributed.ProcessGroup group)
    {
        var v = SumAcross(group, Value(_sum), _weight);
        Set(ref _sum, v[0], ScalarType.Float64);
        _weight = v[1];
    }

    public override void Reset()
    {
        Free(ref _sum);
        _weight = 0;
    }
}
