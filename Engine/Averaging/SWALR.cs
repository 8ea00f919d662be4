using Engine.Schedules;

namespace Engine.Averaging;

/// <summary>How <see cref="SWALR"/> moves from the lr it starts at to swa_lr.</summary>
public enum SwaAnneal
{
    /// <summary>α(t) = (1 − cos πt) / 2 (PyTorch's 'cos', the default).</summary>
    Cos = 0,
    /// <summary>α(t) = t (PyTorch's 'linear').</summary>
    Linear = 1,
}

/// <summary>
/// The SWA learning-rate schedule, PyTorch's <c>torch.optim.swa_utils.SWALR</c>: anneals each group's
/// lr from the value it holds when the schedule starts to a constant <see cref="SwaLr"/> over
/// <see cref="AnnealEpochs"/> steps, then holds it (Izmailov et al. 2018 use a constant or cyclical
/// lr while averaging):
/// <code>
/// t = clamp(step / max(1, anneal_epochs), 0, 1),   α = (1 − cos πt)/2  (cos)  or  t  (linear)
/// η_step = swa_lr · α + η_start · (1 − α)
/// </code>
/// (anneal_epochs = 0: swa_lr from step 0). A <see cref="Scheduler"/> steps PyTorch's own recursive
/// form, which recovers η_start from the lr the group holds,
/// <c>η_start = (η − α_prev·swa_lr)/(1 − α_prev)</c> (swa_lr once α_prev = 1), so it anneals from
/// whatever lr the group holds when attached (a cosine schedule's last value, say), bit for bit as
/// PyTorch 1.13 (Engine.Tests/Fixtures/swa.json). The closed form <see cref="Schedule.LearningRate"/>
/// anneals from the baseLr it is given. One swa_lr per group: give the <see cref="Scheduler"/> one
/// schedule per group. Inside a <see cref="SequentialLR"/> it anneals from the lr held at its
/// milestone, with α = 0 on the milestone step itself; PyTorch 1.13's SequentialLR is one step further
/// along there (its <c>step(0)</c> leaves SWALR's internal step count at 1: cosine T_max 4 then
/// SWALR(0.01, 2) at milestone 4 gives 0.01464, 0.01232, 0.01 from step 3 in PyTorch, 0.01464,
/// 0.01464, 0.01232, 0.01 here). Not checked against PyTorch in that composition.
/// </summary>
public sealed class SWALR : Schedule
{
    public SWALR(double swaLr, long annealEpochs = 10, SwaAnneal anneal = SwaAnneal.Cos)
    {
        if (!(double.IsFinite(swaLr) && swaLr >= 0))
            throw new ArgumentOutOfRangeException(nameof(swaLr), swaLr, $"SWALR: swaLr must be finite and >= 0, got {F(swaLr)}");
        if (annealEpochs < 0)
            throw new ArgumentOutOfRangeException(nameof(annealEpochs), annealEpochs, $"SWALR: annealEpochs must be >= 0, got {annealEpochs}");
        if (anneal is not (SwaAnneal.Cos or SwaAnneal.Linear))
            throw new ArgumentOutOfRangeException(nameof(anneal), anneal, $"SWALR: anneal must be Cos or Linear, got {anneal}");
        SwaLr = swaLr;
        AnnealEpochs = annealEpochs;
        Anneal = anneal;
    }

    /// <summary>swa_lr: the lr held after annealing.</summary>
    public double SwaLr { get; }
    /// <summary>anneal_epochs: steps from the starting lr to swa_lr.</summary>
    public long AnnealEpochs { get; }
    public SwaAnneal Anneal { get; }

    double Alpha(double t) => Anneal == SwaAnneal.Cos ? (1 - Math.Cos(Math.PI * t)) / 2 : t;

    // PyTorch: step = max(1, step) when anneal_epochs == 0, so swa_lr is set at once.
    long Effective(long step) => AnnealEpochs == 0 ? Math.Max(1, step) : step;

    double T(long step) => Math.Max(0, Math.Min(1, step / (double)Math.Max(1, AnnealEpochs)));

    protected internal override double At(long step, double baseLr)
    {
        var alpha = Alpha(T(Effective(step)));
        return SwaLr * alpha + baseLr * (1 - alpha);
    }

    protected internal override double Next(long step, double currentLr, double baseLr)
    {
        step = Effective(step);
        var prevAlpha = Alpha(T(step - 1));
        var start = prevAlpha == 1 ? SwaLr : (currentLr - prevAlpha * SwaLr) / (1 - prevAlpha); // PyTorch's _get_initial_lr
        var alpha = Alpha(T(step));
        return SwaLr * alpha + start * (1 - alpha);
    }

    protected internal override bool ContinuesFromCurrent => true;

    public override string ToString() => $"SWALR(swa_lr: {F(SwaLr)}, anneal_epochs: {AnnealEpochs}, anneal: {Anneal})";
}
