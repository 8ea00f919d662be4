namespace Engine.Schedules;

/// <summary>
/// Inverse time decay (Keras' <c>InverseTimeDecay(lr, decay_steps, decay_rate, staircase)</c>):
/// <code>
/// p = t / decaySteps   (⌊t / decaySteps⌋ with staircase)
/// η_t = η₀ / (1 + decayRate · p)
/// </code>
/// Checked against Keras' documented formula in float64.
/// </summary>
public sealed class InverseTimeDecay : Schedule
{
    public InverseTimeDecay(long decaySteps, double decayRate, bool staircase = false)
    {
        Require.AtLeast(decaySteps, 1, nameof(InverseTimeDecay), nameof(decaySteps));
        Require.NonNegative(decayRate, nameof(InverseTimeDecay), nameof(decayRate));
        DecaySteps = decaySteps;
        DecayRate = decayRate;
        Staircase = staircase;
    }

    public long DecaySteps { get; }
    public double DecayRate { get; }
    public bool Staircase { get; }

    protected internal override double At(long step, double baseLr)
    {
        double p = (double)step / DecaySteps;
        if (Staircase) p = Math.Floor(p);
        return baseLr / (1 + DecayRate * p);
    }

    public override string ToString() => $"InverseTimeDecay(decaySteps: {DecaySteps}, decayRate: {F(DecayRate)}, staircase: {Staircase})";
}
