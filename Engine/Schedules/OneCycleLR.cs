namespace Engine.Schedules;

/// <summary>How one-cycle anneals between two values (PyTorch's anneal_strategy).</summary>
public enum AnnealStrategy
{
    /// <summary>end + (start − end)/2 · (1 + cos(π·pct))</summary>
    Cos,
    /// <summary>start + (end − start)·pct</summary>
    Linear,
}

/// <summary>
/// The 1cycle policy (Smith and Topin, "Super-Convergence", 2018; torch.optim.lr_scheduler.OneCycleLR):
/// the lr rises from maxLr/divFactor to maxLr, then falls far below where it started, while the
/// momentum (SGD's and RMSprop's <see cref="torch.optim.IMomentum"/>, the Adam family's β₁ of
/// <see cref="torch.optim.IBetas"/>) moves the opposite way between maxMomentum and baseMomentum.
/// <code>
/// initial = maxLr / divFactor,   min = initial / finalDivFactor
/// two phases (fastai):  steps 0 → pctStart·N − 1: initial → maxLr,   momentum max → base
///                       → N − 1:                  maxLr → min,       momentum base → max
/// three phases (paper): 0 → pctStart·N − 1: initial → maxLr;  → 2·pctStart·N − 2: maxLr → initial;
///                       → N − 1: initial → min (momentum held at max)
/// within a phase:  pct = (t − phase start) / (phase end − phase start),  value = anneal(start, end, pct)
/// </code>
/// Absolute values: the group's own lr is not used (one schedule per group gives per-group maxLr).
/// As in PyTorch, step N (one past the last phase) is allowed, since the scheduler is stepped after
/// the last batch too; beyond it the schedule throws. Checked against PyTorch 1.13 (schedules.json),
/// learning rate and momentum. TorchSharp 0.107's OneCycleLR is the in-process reference only where
/// it is right: it picks the phase by the group's index instead of the phase's, so a second group
/// follows the warm-up curve past its end and every group gets lr 0 at step totalSteps (see
/// Engine.Tests' TorchSharpParityTests).
/// </summary>
public sealed class OneCycleLR : Schedule
{
    readonly record struct Phase(double EndStep, double StartLr, double EndLr, double StartMomentum, double EndMomentum);

    readonly Phase[] _phases;

    public OneCycleLR(double maxLr, long totalSteps, double pctStart = 0.3, AnnealStrategy annealStrategy = AnnealStrategy.Cos,
        bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25.0,
        double finalDivFactor = 1e4, bool threePhase = false)
    {
        const string name = nameof(OneCycleLR);
        Require.Positive(maxLr, name, nameof(maxLr));
        Require.AtLeast(totalSteps, 1, name, nameof(totalSteps));
        Require.InRange(pctStart, 0, 1, name, nameof(pctStart));
        Require.NonNegative(baseMomentum, name, nameof(baseMomentum));
        Require.NonNegative(maxMomentum, name, nameof(maxMomentum));
        Require.Positive(divFactor, name, nameof(divFactor));
        Require.Positive(finalDivFactor, name, nameof(finalDivFactor));
        if (!Enum.IsDefined(annealStrategy)) throw new ArgumentOutOfRangeException(nameof(annealStrategy), annealStrategy, $"{name}: unknown anneal strategy {annealStrategy}");
        MaxLr = maxLr;
        TotalSteps = totalSteps;
        PctStart = pctStart;
        Anneal = annealStrategy;
        CycleMomentum = cycleMomentum;
        BaseMomentum = baseMomentum;
        MaxMomentum = maxMomentum;
        DivFactor = divFactor;
        FinalDivFactor = finalDivFactor;
        ThreePhase = threePhase;

        double initial = InitialLr, min = MinLr;
        _phases = threePhase
            ?
            [
                new(pctStart * totalSteps - 1, initial, maxLr, maxMomentum, baseMomentum),
                new(2 * pctStart * totalSteps - 2, maxLr, initial, baseMomentum, maxMomentum),
                new(totalSteps - 1, initial, min, maxMomentum, maxMomentum),
            ]
            :
            [
                new(pctStart * totalSteps - 1, initial, maxLr, maxMomentum, baseMomentum),
                new(totalSteps - 1, maxLr, min, baseMomentum, maxMomentum),
            ];
        // Every phase needs a positive length, or its pct divides by zero (PyTorch: ZeroDivisionError).
        double start = 0;
        foreach (var phase in _phases)
        {
            if (!(phase.EndStep > start))
                throw new ArgumentException(
                    $"{name}: pctStart {F(pctStart)} over totalSteps {totalSteps} gives phases ending at steps [{string.Join(", ", _phases.Select(p => F(p.EndStep)))}]; " +
                    "each phase needs more than 0 steps (is the warm-up longer than the run, or empty?)", nameof(pctStart));
            start = phase.EndStep;
        }
    }

    public double MaxLr { get; }
    public long TotalSteps { get; }
    public double PctStart { get; }
    public AnnealStrategy Anneal { get; }
    public bool CycleMomentum { get; }
    public double BaseMomentum { get; }
    public double MaxMomentum { get; }
    public double DivFactor { get; }
    public double FinalDivFactor { get; }
    public bool ThreePhase { get; }

    /// <summary>Where the cycle starts: maxLr / divFactor.</summary>
    public double InitialLr => MaxLr / DivFactor;
    /// <summary>Where it ends: initial / finalDivFactor.</summary>
    public double MinLr => InitialLr / FinalDivFactor;

    public override bool CyclesMomentum => CycleMomentum;

    (Phase Phase, double Pct) Locate(long step)
    {
        if (step > TotalSteps)
            throw new ArgumentOutOfRangeException(nameof(step), step, $"{Name}: tried to step {step + 1} times; the specified number of total steps is {TotalSteps}");
        double start = 0;
        for (int i = 0; i < _phases.Length; i++)
        {
            var phase = _phases[i];
            if (step <= phase.EndStep || i == _phases.Length - 1)
                return (phase, (step - start) / (phase.EndStep - start));
            start = phase.EndStep;
        }
        throw new InvalidOperationException("unreachable");
    }

    double Interpolate(double start, double end, double pct) => Anneal == AnnealStrategy.Cos
        ? end + (start - end) / 2.0 * (Math.Cos(Math.PI * pct) + 1)
        : (end - start) * pct + start;

    protected internal override double At(long step, double baseLr)
    {
        var (phase, pct) = Locate(step);
        return Interpolate(phase.StartLr, phase.EndLr, pct);
    }

    protected internal override double? MomentumAt(long step)
    {
        if (!CycleMomentum) return null;
        var (phase, pct) = Locate(step);
        return Interpolate(phase.StartMomentum, phase.EndMomentum, pct);
    }

    public override string ToString() =>
        $"OneCycleLR(maxLr: {F(MaxLr)}, totalSteps: {TotalSteps}, pctStart: {F(PctStart)}, anneal: {Anneal}, cycleMomentum: {CycleMomentum}, " +
        $"baseMomentum: {F(BaseMomentum)}, maxMomentum: {F(MaxMomentum)}, divFactor: {F(DivFactor)}, finalDivFactor: {F(FinalDivFactor)}, threePhase: {ThreePhase})";
}
