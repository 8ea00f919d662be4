namespace Engine.Schedules;

/// <summary>
/// Piecewise constant (Keras' <c>PiecewiseConstantDecay</c>, the seed's "Step Decay"): absolute
/// values between boundaries,
/// <code>
/// η_t = values[0] for t ≤ boundaries[0], values[1] for boundaries[0] &lt; t ≤ boundaries[1], …,
///       values[n] for t > boundaries[n−1]
/// </code>
/// The seed's chart uses boundaries [300, 600, 800] and values [0.1, 0.01, 0.001, 0.0001]. The
/// values are learning rates, not factors, so the group's own lr is not used. Checked against
/// Keras' documented formula in float64.
/// </summary>
public sealed class PiecewiseConstantDecay : Schedule
{
    readonly long[] _boundaries;
    readonly double[] _values;

    public PiecewiseConstantDecay(IReadOnlyList<long> boundaries, IReadOnlyList<double> values)
    {
        const string name = nameof(PiecewiseConstantDecay);
        _boundaries = Require.IncreasingSteps(boundaries, 0, name, nameof(boundaries));
        _values = Require.NotNull(values, name, nameof(values)).ToArray();
        if (_values.Length != _boundaries.Length + 1)
            throw new ArgumentException($"{name}: {_boundaries.Length} boundaries need {_boundaries.Length + 1} values, got {_values.Length}", nameof(values));
        foreach (var v in _values) Require.NonNegative(v, name, nameof(values));
    }

    public IReadOnlyList<long> Boundaries => _boundaries;
    public IReadOnlyList<double> Values => _values;

    protected internal override double At(long step, double baseLr)
    {
        // The number of boundaries strictly below the step.
        int i = Array.BinarySearch(_boundaries, step);
        return _values[i >= 0 ? i : ~i];
    }

    public override string ToString() =>
        $"PiecewiseConstantDecay(boundaries: [{string.Join(", ", _boundaries)}], values: [{string.Join(", ", _values.Select(F))}])";
}
