namespace Engine.Schedules;

/// <summary>
/// Cosine annealing with warm restarts, SGDR (Loshchilov and Hutter, 2017;
/// torch.optim.lr_scheduler.CosineAnnealingWarmRestarts): a cosine from the base lr to η_min over
/// T_i steps, then back to the base lr; the first period is T_0 and each is T_mult times the last.
/// <code>
/// T_cur = steps since the last restart,  T_i = T_0 · T_mult^(restarts so far)
/// η_t = η_min + (η₀ − η_min) · (1 + cos(π T_cur / T_i)) / 2
/// </code>
/// PyTorch computes this from the base lr at every step, so the closed form is also what
/// step() gives. Checked against PyTorch 1.13 (schedules.json), over several restarts.
/// </summary>
public sealed class CosineAnnealingWarmRestarts : Schedule
{
    public CosineAnnealingWarmRestarts(long t0, long tMult = 1, double etaMin = 0)
    {
        Require.AtLeast(t0, 1, nameof(CosineAnnealingWarmRestarts), "T_0");
        Require.AtLeast(tMult, 1, nameof(CosineAnnealingWarmRestarts), "T_mult");
        Require.NonNegative(etaMin, nameof(CosineAnnealingWarmRestarts), nameof(etaMin));
        T0 = t0;
        TMult = tMult;
        EtaMin = etaMin;
    }

    /// <summary>T_0: the length of the first period.</summary>
    public long T0 { get; }
    /// <summary>T_mult: each period is this many times longer than the one before.</summary>
    public long TMult { get; }
    public double EtaMin { get; }

    /// <summary>(T_cur, T_i) at a step: PyTorch's integer bookkeeping, replayed.</summary>
    public (long TCur, long TI) Position(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, $"{Name}: step must be >= 0, got {step}");
        if (TMult == 1) return (step % T0, T0);
        long tCur = step, tI = T0;
        while (tCur >= tI)
        {
            tCur -= tI;
            tI *= TMult;
        }
        return (tCur, tI);
    }

    protected internal override double At(long step, double baseLr)
    {
        var (tCur, tI) = Position(step);
        return EtaMin + (baseLr - EtaMin) * (1 + Math.Cos(Math.PI * tCur / tI)) / 2;
    }

    public override string ToString() => $"CosineAnnealingWarmRestarts(T_0: {T0}, T_mult: {TMult}, etaMin: {F(EtaMin)})";
}
