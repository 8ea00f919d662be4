namespace Engine.Schedules;

/// <summary>
/// Linear warmup or linear decay (torch.optim.lr_scheduler.LinearLR): the factor goes linearly
/// from <see cref="StartFactor"/> to <see cref="EndFactor"/> over <see cref="TotalIters"/> steps,
/// then stays. The seed's linear warmup is <c>LinearLR(0, 1, W)</c> (or
/// <see cref="Schedule.WithWarmup"/>); its linear decay α_t = α₀(1 − t/T) is <c>LinearLR(1, 0, T)</c>.
/// <code>
/// η_t = η₀ · (s + (e − s) · min(t, T) / T)                                   closed form
/// η_0 = η · s,  η_t = η_{t−1} · (1 + (e − s) / (T·s + (t − 1)(e − s)))  for 1 ≤ t ≤ T   (step())
/// </code>
/// Deviation: PyTorch 1.13 divides by zero when stepping with startFactor 0; here startFactor 0
/// uses the closed form. Checked against PyTorch 1.13 (schedules.json).
/// </summary>
public sealed class LinearLR : Schedule
{
    public LinearLR(double startFactor = 1.0 / 3, double endFactor = 1.0, long totalIters = 5)
    {
        Require.InRange(startFactor, 0, 1, nameof(LinearLR), nameof(startFactor));
        Require.InRange(endFactor, 0, 1, nameof(LinearLR), nameof(endFactor));
        Require.AtLeast(totalIters, 1, nameof(LinearLR), nameof(totalIters));
        StartFactor = startFactor;
        EndFactor = endFactor;
        TotalIters = totalIters;
    }

    public double StartFactor { get; }
    public double EndFactor { get; }
    public long TotalIters { get; }

    protected internal override double At(long step, double baseLr) =>
        baseLr * (StartFactor + (EndFactor - StartFactor) * Math.Min(TotalIters, step) / TotalIters);

    protected internal override double Next(long step, double currentLr, double baseLr)
    {
        if (StartFactor == 0) return At(step, baseLr);
        if (step == 0) return currentLr * StartFactor;
        if (step > TotalIters) return currentLr;
        return currentLr * (1.0 + (EndFactor - StartFactor) / (TotalIters * StartFactor + (step - 1) * (EndFactor - StartFactor)));
    }

    protected internal override bool Chainable => StartFactor != 0;

    public override string ToString() => $"LinearLR(startFactor: {F(StartFactor)}, endFactor: {F(EndFactor)}, totalIters: {TotalIters})";
}
