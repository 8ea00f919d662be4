namespace Engine.Schedules;

/// <summary>
/// Exponential decay: PyTorch's <c>ExponentialLR(gamma)</c> (decaySteps = 1) and Keras'
/// <c>ExponentialDecay(lr, decay_steps, decay_rate, staircase)</c> (gamma = decay_rate).
/// <code>
/// p = t / decaySteps   (⌊t / decaySteps⌋ with staircase)
/// η_t = η₀ · γ^p                                   closed form
/// η_t = η_{t−1} · γ  for t > 0                     what PyTorch's step() computes (decaySteps = 1)
/// </code>
/// The seed's chart uses <c>ExponentialDecay(0.1, decay_steps=100, decay_rate=0.96)</c>:
/// <c>new ExponentialLR(0.96, decaySteps: 100)</c> on a group with lr 0.1. Checked against
/// PyTorch 1.13 (decaySteps = 1) and Keras' documented formula in float64.
/// </summary>
public sealed class ExponentialLR : Schedule
{
    public ExponentialLR(double gamma, long decaySteps = 1, bool staircase = false)
    {
        Require.NonNegative(gamma, nameof(ExponentialLR), nameof(gamma));
        Require.AtLeast(decaySteps, 1, nameof(ExponentialLR), nameof(decaySteps));
        Gamma = gamma;
        DecaySteps = decaySteps;
        Staircase = staircase;
    }

    public double Gamma { get; }
    public long DecaySteps { get; }
    public bool Staircase { get; }

    protected internal override double At(long step, double baseLr)
    {
        if (DecaySteps == 1) return baseLr * Math.Pow(Gamma, step);
        double p = (double)step / DecaySteps;
        if (Staircase) p = Math.Floor(p);
        return baseLr * Math.Pow(Gamma, p);
    }

    protected internal override double Next(long step, double currentLr, double baseLr) =>
        DecaySteps != 1 ? At(step, baseLr) : step == 0 ? currentLr : currentLr * Gamma;

    protected internal override bool Chainable => DecaySteps == 1;

    public override string ToString() =>
        DecaySteps == 1 ? $"ExponentialLR(gamma: {F(Gamma)})" : $"ExponentialLR(gamma: {F(Gamma)}, decaySteps: {DecaySteps}, staircase: {Staircase})";
}
