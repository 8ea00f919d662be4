namespace Engine.Schedules;

/// <summary>
/// Cosine annealing (torch.optim.lr_scheduler.CosineAnnealingLR, the annealing of SGDR; Keras'
/// <c>CosineDecay</c>): the seed's α_t = ½ α₀ (1 + cos(tπ/T)), with a floor.
/// <code>
/// η_min = etaMin (absolute, PyTorch) or alpha · η₀ (a fraction of the base lr, Keras)
/// η_t = η_min + (η₀ − η_min) · (1 + cos(π t / T)) / 2                                   closed form
/// η_t = η_min + (η_{t−1} − η_min) · (1 + cos(π t / T)) / (1 + cos(π (t − 1) / T))        (step())
/// η_t = η_{t−1} + (η₀ − η_min) · (1 − cos(π / T)) / 2   when (t − 1 − T) mod 2T = 0     (step())
/// </code>
/// Past T the lr rises again (period 2T), as in PyTorch; Keras and optax hold the floor instead:
/// Keras' <c>CosineDecay(lr, decay_steps, alpha)</c> is
/// <c>new CosineAnnealingLR(decaySteps, alpha: alpha).HoldAfter(decaySteps)</c>.
/// Checked against PyTorch 1.13 (schedules.json) and Keras' formula in float64.
/// </summary>
public sealed class CosineAnnealingLR : Schedule
{
    public CosineAnnealingLR(long tMax, double etaMin = 0, double alpha = 0)
    {
        Require.AtLeast(tMax, 1, nameof(CosineAnnealingLR), nameof(tMax));
        Require.NonNegative(etaMin, nameof(CosineAnnealingLR), nameof(etaMin));
        Require.InRange(alpha, 0, 1, nameof(CosineAnnealingLR), nameof(alpha));
        if (etaMin != 0 && alpha != 0)
            throw new ArgumentException($"CosineAnnealingLR: give the floor either as etaMin ({F(etaMin)}) or as alpha ({F(alpha)}), not both", nameof(alpha));
        TMax = tMax;
        EtaMin = etaMin;
        Alpha = alpha;
    }

    /// <summary>T_max: the steps from the base lr down to the floor.</summary>
    public long TMax { get; }
    /// <summary>η_min: the floor, absolute.</summary>
    public double EtaMin { get; }
    /// <summary>Keras' alpha: the floor as a fraction of the base lr.</summary>
    public double Alpha { get; }

    double Floor(double baseLr) => Alpha == 0 ? EtaMin : Alpha * baseLr;

    protected internal override double At(long step, double baseLr)
    {
        double etaMin = Floor(baseLr);
        return etaMin + (baseLr - etaMin) * (1 + Math.Cos(Math.PI * step / TMax)) / 2;
    }

    protected internal override double Next(long step, double currentLr, double baseLr)
    {
        if (step == 0) return currentLr;
        double etaMin = Floor(baseLr);
        // At the bottom of a period the ratio below would be 0/0: PyTorch steps up from the floor.
        if ((step - 1 - TMax) % (2 * TMax) == 0)
            return currentLr + (baseLr - etaMin) * (1 - Math.Cos(Math.PI / TMax)) / 2;
        return (1 + Math.Cos(Math.PI * step / TMax)) / (1 + Math.Cos(Math.PI * (step - 1) / TMax)) * (currentLr - etaMin) + etaMin;
    }

    protected internal override bool Chainable => true;

    public override string ToString() =>
        Alpha == 0 ? $"CosineAnnealingLR(tMax: {TMax}, etaMin: {F(EtaMin)})" : $"CosineAnnealingLR(tMax: {TMax}, alpha: {F(Alpha)})";
}
