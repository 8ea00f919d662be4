namespace Engine.Data;

/// <summary>
/// Feature standardization for tabular data [N, F] (scikit-learn's <c>StandardScaler</c>): fit
/// on the training features, <c>μ_f = mean(x[:, f])</c>, <c>σ_f = sqrt(mean((x[:, f] − μ_f)²))</c>
/// (the population standard deviation, ddof 0, as scikit-learn), then transform any split with
/// <c>(x − μ) / σ</c>. A constant feature (σ_f = 0) is divided by 1, as scikit-learn does.
/// Statistics are computed in float64 and applied in the input's dtype; fit once on the training
/// split and apply the same scaler to validation and test data, so they leak nothing into it.
/// </summary>
public sealed class StandardScaler : IBatchTransform, IDisposable
{
    readonly Tensor _mean, _scale;   // float64 [F], on the CPU

    StandardScaler(Tensor mean, Tensor scale)
    {
        _mean = mean;
        _scale = scale;
    }

    /// <summary>Number of features, F.</summary>
    public long Features => _mean.shape[0];
    /// <summary>μ, float64 [F] (a copy).</summary>
    public double[] Mean => _mean.data<double>().ToArray();
    /// <summary>σ with zeros replaced by 1, float64 [F] (a copy; scikit-learn's <c>scale_</c>).</summary>
    public double[] Scale => _scale.data<double>().ToArray();

    /// <summary>Fits μ and σ on training features [N, F] (N ≥ 1, floating point or integer).</summary>
    /// <exception cref="ArgumentException">Not two-dimensional, or no samples.</exception>
    public static StandardScaler Fit(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2 || features.shape[0] == 0)
            throw new ArgumentException($"StandardScaler.Fit: features must be [N, F] with N >= 1, got [{string.Join(", ", features.shape)}]", nameof(features));
        using var scope = NewDisposeScope();
        var x = features.to(ScalarType.Float64, CPU);
        var mean = x.mean([0]);
        var centered = x.sub(mean);
        var std = centered.mul(centered).mean([0]).sqrt_();
        var scale = where(std.eq(0), ones_like(std), std);
        return new StandardScaler(mean.DetachFromDisposeScope(), scale.DetachFromDisposeScope());
    }

    /// <summary>(x − μ) / σ for features [M, F], in x's dtype and on x's device.</summary>
    public Tensor Transform(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2 || features.shape[1] != Features)
            throw new ArgumentException($"StandardScaler.Transform: features must be [M, {Features}] (fitted on {Features} features), got [{string.Join(", ", features.shape)}]", nameof(features));
        if (!features.is_floating_point())
            throw new ArgumentException($"StandardScaler.Transform: features are {features.dtype}; convert them to floating point first", nameof(features));
        using var mean = _mean.to(features.dtype, features.device);
        using var scale = _scale.to(features.dtype, features.device);
        return features.sub(mean).div_(scale);
    }

    public (Tensor Input, Tensor Target) Apply(Tensor input, Tensor target) => (Transform(input), target);

    public void Dispose()
    {
        _mean.Dispose();
        _scale.Dispose();
    }
}
