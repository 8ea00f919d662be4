namespace Engine.Training.Metrics;

/// <summary>
/// Mean absolute error, mean squared error and root mean squared error over every element of
/// every batch (Keras' mean_absolute_error, root_mean_squared_error):
/// <code>mae = Σ|pᵢ − tᵢ| / n,   mse = Σ(pᵢ − tᵢ)² / n,   rmse = √mse</code>
/// Prediction and target must have the same shape: broadcasting [N, 1] against [N] would
/// silently compare every prediction with every target. The sums are float64 on device.
/// </summary>
public sealed class RegressionErrors(string prefix = "") : Metric
{
    Tensor? _abs, _sq;
    long _count;

    public override IReadOnlyList<string> Names => [prefix + "mae", prefix + "mse", prefix + "rmse"];

    public override void Update(Tensor prediction, Tensor target)
    {
        if (!prediction.shape.SequenceEqual(target.shape))
            throw new ArgumentException($"RegressionErrors: prediction {Shape(prediction)} and target {Shape(target)} must have the same shape");
        using var _ = NewDisposeScope();
        var diff = prediction.detach().to(ScalarType.Float64).sub(target.to(ScalarType.Float64));
        Accumulate(ref _abs, diff.abs().sum());
        Accumulate(ref _sq, diff.square().sum());
        _count += target.numel();
    }

    public override IReadOnlyDictionary<string, double> Compute()
    {
        double mae = double.NaN, mse = double.NaN;
        if (_abs is not null && _sq is not null && _count > 0)
        {
            mae = _abs.item<double>() / _count;
            mse = _sq.item<double>() / _count;
        }
        return new Dictionary<string, double> { [prefix + "mae"] = mae, [prefix + "mse"] = mse, [prefix + "rmse"] = Math.Sqrt(mse) };
    }

    public override void Synchronize(Distributed.ProcessGroup group)
    {
        var v = SumAcross(group, Value(_abs), Value(_sq), _count);
        Set(ref _abs, v[0], ScalarType.Float64);
        Set(ref _sq, v[1], ScalarType.Float64);
        _count = (long)v[2];
    }

    public override void Reset()
    {
        Free(ref _abs);
        Free(ref _sq);
        _count = 0;
    }
}
