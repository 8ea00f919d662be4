namespace Engine.Schedules;

/// <summary>
/// Constant warmup (torch.optim.lr_scheduler.ConstantLR): the lr is scaled by
/// <see cref="Factor"/> for the first <see cref="TotalIters"/> steps, then is the base lr.
/// <code>
/// η_t = η₀ · factor  for t &lt; totalIters,  η₀ after          closed form
/// η_0 = η · factor,  η_totalIters = η_{totalIters−1} · (1 / factor)  what step() computes
/// </code>
/// Deviations from PyTorch 1.13, which accepts both and then misbehaves: totalIters must be
/// >= 1 (with 0, PyTorch leaves the lr at factor·η₀ for ever), and factor 0 uses the closed form
/// (PyTorch divides by zero at totalIters). Checked against PyTorch 1.13 (schedules.json).
/// </summary>
public sealed class ConstantLR : Schedule
{
    public ConstantLR(double factor = 1.0 / 3, long totalIters = 5)
    {
        Require.InRange(factor, 0, 1, nameof(ConstantLR), nameof(factor));
        Require.AtLeast(totalIters, 1, nameof(ConstantLR), nameof(totalIters));
        Factor = factor;
        TotalIters = totalIters;
    }

    public double Factor { get; }
    public long TotalIters { get; }

    protected internal override double At(long step, double baseLr) =>
        baseLr * (Factor + (step >= TotalIters ? 1 - Factor : 0.0));

    protected internal override double Next(long step, double currentLr, double baseLr)
    {
        if (Factor == 0) return At(step, baseLr);
        if (step == 0) return currentLr * Factor;
        return step == TotalIters ? currentLr * (1.0 / Factor) : currentLr;
    }

    protected internal override bool Chainable => Factor != 0;

    public override string ToString() => $"ConstantLR(factor: {F(Factor)}, totalIters: {TotalIters})";
}
