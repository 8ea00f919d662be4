namespace Engine.Schedules;

/// <summary>
/// Polynomial decay (torch.optim.lr_scheduler.PolynomialLR): from the base lr to 0 at
/// <see cref="TotalIters"/>, then 0. Power 1 is the seed's linear decay α_t = α₀(1 − t/T).
/// <code>
/// η_t = η₀ · (1 − min(t, T) / T)^power                                      closed form
/// η_t = η_{t−1} · ((1 − t/T) / (1 − (t − 1)/T))^power  for 1 ≤ t ≤ T       (step())
/// </code>
/// Checked against PyTorch 1.13 (schedules.json).
/// </summary>
public sealed class PolynomialLR : Schedule
{
    public PolynomialLR(long totalIters = 5, double power = 1.0)
    {
        Require.AtLeast(totalIters, 1, nameof(PolynomialLR), nameof(totalIters));
        Require.NonNegative(power, nameof(PolynomialLR), nameof(power));
        TotalIters = totalIters;
        Power = power;
    }

    public long TotalIters { get; }
    public double Power { get; }

    protected internal override double At(long step, double baseLr) =>
        baseLr * Math.Pow(1.0 - (double)Math.Min(TotalIters, step) / TotalIters, Power);

    protected internal override double Next(long step, double currentLr, double baseLr)
    {
        if (step == 0 || step > TotalIters) return currentLr;
        double decay = Math.Pow((1.0 - (double)step / TotalIters) / (1.0 - (double)(step - 1) / TotalIters), Power);
        return currentLr * decay;
    }

    protected internal override bool Chainable => true;

    public override string ToString() => $"PolynomialLR(totalIters: {TotalIters}, power: {F(Power)})";
}
