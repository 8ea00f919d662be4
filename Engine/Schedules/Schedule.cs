using System.Globalization;

namespace Engine.Schedules;

/// <summary>
/// A learning-rate schedule: the learning rate as a pure function of the step (optax's
/// <c>step -> value</c>), which a <see cref="Scheduler"/> applies to an optimizer's parameter groups.
/// <para>
/// Each schedule has two faces, both pure:
/// <list type="bullet">
/// <item><see cref="LearningRate"/>(step, baseLr): the closed form (PyTorch's <c>_get_closed_form_lr</c>,
/// Keras' formula). Ask for any step in any order: plots, tests, composition.</item>
/// <item><see cref="Next"/>(step, currentLr, baseLr): PyTorch's chainable form, the <c>get_lr()</c>
/// that <c>scheduler.step()</c> runs, which computes the new lr from the lr the group holds (StepLR
/// multiplies it by γ at each boundary, CosineAnnealingLR scales it by a ratio of cosines...).
/// A <see cref="Scheduler"/> steps with this form, so it reproduces torch.optim.lr_scheduler 1.13
/// bit for bit; <see cref="Trajectory"/> gives the same values without an optimizer.</item>
/// </list>
/// The two forms agree up to rounding: in the parity fixtures the largest relative difference
/// between PyTorch's recursive values and its own closed form is 2.4e-15. Schedules that PyTorch
/// computes from the base lr (LambdaLR, OneCycleLR, CyclicLR, CosineAnnealingWarmRestarts) and the
/// Keras formulas have only the closed form.
/// </para>
/// <para>
/// Checked bit for bit against PyTorch 1.13's torch.optim.lr_scheduler (Engine.Tests/Fixtures/
/// schedules.json) and, in process, against every scheduler TorchSharp 0.107 has (its OneCycleLR
/// and CyclicLR only where they are right; see the classes).
/// </para>
/// <para>
/// The step counts <see cref="Scheduler.Step"/> calls, so a schedule is per batch or per epoch as
/// it is stepped (<see cref="StepEvery"/>). Step 0 is the value before the first step; PyTorch's
/// <c>last_epoch</c>. Composition builds from the pieces: <see cref="SequentialLR"/> (warmup, then
/// any schedule), <see cref="ChainedScheduler"/>, <see cref="WithWarmup"/>, <see cref="HoldAfter"/>.
/// </para>
/// </summary>
public abstract class Schedule
{
    /// <summary>The learning rate at <paramref name="step"/> (0 = before any step) of a group whose
    /// initial learning rate is <paramref name="baseLr"/>: the closed form, a pure function.</summary>
    public double LearningRate(long step, double baseLr)
    {
        CheckStep(step);
        return At(step, baseLr);
    }

    /// <summary>The momentum (SGD's momentum, Adam's β₁) at <paramref name="step"/>, for schedules
    /// that cycle it (<see cref="OneCycleLR"/>, <see cref="CyclicLR"/>); null for the others.</summary>
    public double? Momentum(long step)
    {
        CheckStep(step);
        return MomentumAt(step);
    }

    /// <summary>True when the schedule sets the momentum as well as the learning rate.</summary>
    public virtual bool CyclesMomentum => false;

    /// <summary>The closed form, for a step already checked to be >= 0.</summary>
    protected internal abstract double At(long step, double baseLr);

    /// <summary>
    /// The chainable form, what <c>scheduler.step()</c> computes in PyTorch: the lr at
    /// <paramref name="step"/> from <paramref name="currentLr"/>, the lr the group holds (at step 0,
    /// the lr it held when the schedule was attached). Defaults to the closed form, which ignores
    /// the current lr, as PyTorch's LambdaLR, OneCycleLR and CyclicLR do.
    /// </summary>
    protected internal virtual double Next(long step, double currentLr, double baseLr) => At(step, baseLr);

    /// <summary>The momentum at a checked step, null if this schedule leaves momentum alone.</summary>
    protected internal virtual double? MomentumAt(long step) => null;

    /// <summary>True when <see cref="Next"/> multiplies the lr it is given (PyTorch's chainable
    /// schedulers): in a <see cref="ChainedScheduler"/> such a schedule scales what the ones before
    /// it set, where the others replace it.</summary>
    protected internal virtual bool Chainable => false;

    /// <summary>True when, started again by <see cref="SequentialLR"/> at a milestone, the schedule
    /// continues from the lr the group holds instead of from the base lr (MultiplicativeLR, which
    /// PyTorch's <c>step(0)</c> leaves at the current lr).</summary>
    protected internal virtual bool ContinuesFromCurrent => false;

    /// <summary>The learning rates a <see cref="Scheduler"/> sets at steps 0 .. count − 1 (the
    /// chainable form, stepped), for one group whose initial lr is <paramref name="baseLr"/>.</summary>
    public double[] Trajectory(int count, double baseLr)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, $"{Name}.Trajectory: count must be >= 0, got {count}");
        var lrs = new double[count];
        double lr = baseLr;
        for (int t = 0; t < count; t++) lrs[t] = lr = Next(t, lr, baseLr);
        return lrs;
    }

    /// <summary>The closed form as a function of the step, for a fixed base lr.</summary>
    public Func<long, double> AsFunction(double baseLr) => step => LearningRate(step, baseLr);

    /// <summary>Attaches the schedule to every parameter group of <paramref name="optimizer"/>.</summary>
    public Scheduler Attach(torch.optim.Optimizer optimizer, StepEvery every = StepEvery.Epoch) => new(optimizer, this, every);

    /// <summary>
    /// A linear warmup from <paramref name="startFactor"/>·base to the base lr over
    /// <paramref name="warmupSteps"/> steps, then this schedule started at its step 0:
    /// <c>SequentialLR([LinearLR(startFactor, 1, warmupSteps), this], [warmupSteps])</c>.
    /// The seed's warmup starts from 0 (the default).
    /// </summary>
    public Schedule WithWarmup(long warmupSteps, double startFactor = 0)
    {
        if (warmupSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, $"{Name}.WithWarmup: warmupSteps must be >= 1, got {warmupSteps}");
        return new SequentialLR([new LinearLR(startFactor, 1.0, warmupSteps), this], [warmupSteps]);
    }

    /// <summary>
    /// This schedule up to <paramref name="lastStep"/>, then held at its value there (optax's and
    /// Keras' schedules end this way; PyTorch's CosineAnnealingLR instead rises again after T_max).
    /// Keras' <c>CosineDecay(lr, decay_steps, alpha)</c> is
    /// <c>new CosineAnnealingLR(decaySteps, alpha: alpha).HoldAfter(decaySteps)</c>.
    /// </summary>
    public Schedule HoldAfter(long lastStep)
    {
        if (lastStep < 0)
            throw new ArgumentOutOfRangeException(nameof(lastStep), lastStep, $"{Name}.HoldAfter: lastStep must be >= 0, got {lastStep}");
        return new Hold(this, lastStep);
    }

    /// <summary>
    /// The seed's warmup + cosine: a linear warmup from <paramref name="startFactor"/>·base over
    /// <paramref name="warmupSteps"/>, then a cosine from the base lr down to
    /// <paramref name="etaMin"/> at <paramref name="totalSteps"/>:
    /// <c>new CosineAnnealingLR(totalSteps − warmupSteps, etaMin).WithWarmup(warmupSteps, startFactor)</c>.
    /// </summary>
    public static Schedule WarmupCosine(long warmupSteps, long totalSteps, double startFactor = 0, double etaMin = 0)
    {
        if (warmupSteps < 1)
            throw new ArgumentOutOfRangeException(nameof(warmupSteps), warmupSteps, $"WarmupCosine: warmupSteps must be >= 1, got {warmupSteps}");
        if (warmupSteps >= totalSteps)
            throw new ArgumentException($"WarmupCosine: the warmup ({warmupSteps} steps) must be shorter than the run ({totalSteps} steps)", nameof(warmupSteps));
        return new CosineAnnealingLR(totalSteps - warmupSteps, etaMin).WithWarmup(warmupSteps, startFactor);
    }

    /// <summary>The schedule's name, as in error messages.</summary>
    protected string Name => GetType().Name;

    void CheckStep(long step)
    {
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, $"{Name}: step must be >= 0, got {step}");
    }

    /// <summary>A double as C# reads it back (invariant culture, round-trip).</summary>
    protected static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
