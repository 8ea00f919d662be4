namespace Engine.Schedules;

/// <summary>
/// Step decay (torch.optim.lr_scheduler.StepLR): the lr is multiplied by γ every
/// <see cref="StepSize"/> steps.
/// <code>
/// η_t = η₀ · γ^⌊t / stepSize⌋                       closed form
/// η_t = η_{t−1} · γ  if t > 0 and t mod stepSize = 0, else η_{t−1}   (what step() computes)
/// </code>
/// Checked against PyTorch 1.13 (schedules.json).
/// </summary>
public sealed class StepLR : Schedule
{
    public StepLR(long stepSize, double gamma = 0.1)
    {
        Require.AtLeast(stepSize, 1, nameof(StepLR), nameof(stepSize));
        Require.NonNegative(gamma, nameof(StepLR), nameof(gamma));
        StepSize = stepSize;
        Gamma = gamma;
    }

    public long StepSize { get; }
    public double Gamma { get; }

    protected internal override double At(long step, double baseLr) => baseLr * Math.Pow(Gamma, step / StepSize);

    protected internal override double Next(long step, double currentLr, double baseLr) =>
        step == 0 || step % StepSize != 0 ? currentLr : currentLr * Gamma;

    protected internal override bool Chainable => true;

    public override string ToString() => $"StepLR(stepSize: {StepSize}, gamma: {F(Gamma)})";
}
