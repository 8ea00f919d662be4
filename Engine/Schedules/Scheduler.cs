namespace Engine.Schedules;

/// <summary>
/// Applies a <see cref="Schedule"/> to an optimizer's parameter groups: the thin wrapper around a
/// pure schedule. Built, it sets every group's lr to the schedule at step 0 (PyTorch's initial
/// step); each <see cref="Step"/> advances one step (call it after <c>optimizer.Step()</c>) and
/// sets the lr, and the momentum for schedules that cycle it (OneCycleLR, CyclicLR): a group's
/// <see cref="torch.optim.IMomentum.Momentum"/> (SGD, RMSprop) or the β₁ of its
/// <see cref="torch.optim.IBetas.Betas"/> (the Adam family), as TorchSharp's OneCycleLR sets them;
/// if a group has neither, the optimizer object's own IMomentum or IBetas.
/// <para>
/// Stepping uses the schedule's chainable form on the lr each group holds, as PyTorch's
/// <c>scheduler.step()</c> does, so the learning rates equal torch.optim.lr_scheduler 1.13's bit for
/// bit (and schedules attached one after another on one optimizer chain as PyTorch's do). The base
/// lr of a group is its <see cref="torch.optim.ILearningRateController.InitialLearningRate"/>
/// (TorchSharp's optimizers set it to the lr they are built with; PyTorch's initial_lr).
/// </para>
/// <para>
/// <see cref="LRScheduler.StateDict"/> saves the step, base and last learning rates and momentum;
/// <see cref="LRScheduler.LoadStateDict"/> on a scheduler built with the same schedule (the
/// schedule is code, and is checked by its description) writes them back into the optimizer, so a
/// resumed run sets exactly the same learning rates as an uninterrupted one.
/// </para>
/// </summary>
public sealed class Scheduler : LRScheduler
{
    readonly Schedule[] _schedules;
    readonly double[] _base;
    readonly double?[] _momentum;

    /// <summary>One schedule for every group.</summary>
    public Scheduler(torch.optim.Optimizer optimizer, Schedule schedule, StepEvery every = StepEvery.Epoch)
        : this(optimizer, Enumerable.Repeat(schedule ?? throw new ArgumentNullException(nameof(schedule), "Scheduler: schedule is null"),
            optimizer is null ? 0 : ParamGroups.Of(optimizer).Count).ToArray(), every) { }

    /// <summary>A schedule per group (PyTorch's per-group lr_lambda, max_lr... lists).</summary>
    public Scheduler(torch.optim.Optimizer optimizer, IReadOnlyList<Schedule> perGroup, StepEvery every = StepEvery.Epoch) : base(optimizer, every)
    {
        ArgumentNullException.ThrowIfNull(perGroup);
        var groups = ParamGroups.Of(optimizer);
        if (perGroup.Count != groups.Count)
            throw new ArgumentException($"Scheduler: {groups.Count} parameter groups need {groups.Count} schedules, got {perGroup.Count}", nameof(perGroup));
        _schedules = perGroup.ToArray();
        _base = new double[groups.Count];
        _momentum = new double?[groups.Count];
        string? shared = null; // the momentum schedule of groups whose momentum is the optimizer's own
        for (int i = 0; i < groups.Count; i++)
        {
            var s = _schedules[i] ?? throw new ArgumentNullException(nameof(perGroup), $"Scheduler: the schedule of group {i} is null");
            if (!s.CyclesMomentum) continue;
            if (!ParamGroups.HasMomentum(optimizer, groups[i]))
                throw new ArgumentException(
                    $"Scheduler: {s.GetType().Name} cycles momentum, but {optimizer.GetType().Name} has none to cycle (group {i} is neither IMomentum nor IBetas, nor is the optimizer); build it with cycleMomentum: false", nameof(perGroup));
            if (ParamGroups.MomentumIsShared(groups[i]))
            {
                if (shared is not null && shared != s.ToString())
                    throw new ArgumentException(
                        $"Scheduler: the groups of {optimizer.GetType().Name} share the optimizer's one momentum, so they need one momentum schedule; group {i} has {s}, an earlier group {shared}", nameof(perGroup));
                shared = s.ToString();
            }
        }
        for (int i = 0; i < groups.Count; i++) _base[i] = ParamGroups.BaseLearningRate(groups[i]);
        Apply(0);
    }

    /// <summary>The schedule of each group.</summary>
    public IReadOnlyList<Schedule> Schedules => _schedules;

    /// <summary>Every group's base lr (PyTorch's base_lrs).</summary>
    public IReadOnlyList<double> BaseLearningRates => Array.AsReadOnly(_base);

    /// <summary>Every group's momentum as last set, null for groups whose schedule leaves it alone.</summary>
    public IReadOnlyList<double?> LastMomentums => Array.AsReadOnly(_momentum);

    /// <summary>Advances one step and sets every group's lr (and momentum).</summary>
    public void Step() => Apply(LastStep + 1);

    private protected override void StepOn(double? metric) => Step();

    void Apply(long step)
    {
        var groups = Groups(nameof(Step));
        // Compute everything first: a schedule that refuses the step (OneCycleLR past its end)
        // leaves the optimizer and the scheduler as they were.
        var lrs = new double[groups.Count];
        var momenta = new double?[groups.Count];
        for (int i = 0; i < groups.Count; i++)
        {
            lrs[i] = _schedules[i].Next(step, groups[i].LearningRate, _base[i]);
            momenta[i] = _schedules[i].MomentumAt(step);
        }
        for (int i = 0; i < groups.Count; i++)
        {
            groups[i].LearningRate = lrs[i];
            if (momenta[i] is { } m) ParamGroups.SetMomentum(Optimizer, groups[i], m);
        }
        lrs.CopyTo(Last, 0);
        momenta.CopyTo(_momentum, 0);
        LastStep = step;
    }

    string Description() => string.Join("; ", _schedules.Select(s => s.ToString()));

    public override SchedulerState StateDict() => new()
    {
        Kind = nameof(Scheduler),
        Schedule = Description(),
        LastStep = LastStep,
        BaseLearningRates = _base.ToArray(),
        LastLearningRates = Last.ToArray(),
        LastMomentums = _momentum.ToArray(),
    };

    public override void LoadStateDict(SchedulerState state)
    {
        CheckState(state);
        if (state.Schedule is { } saved && saved != Description())
            throw new ArgumentException($"Scheduler.LoadStateDict: the state was saved from {saved}; this scheduler runs {Description()} (set the state's Schedule to null to load it anyway)", nameof(state));
        if (state.BaseLearningRates.Length != _base.Length || state.LastMomentums.Length != _base.Length)
            throw new ArgumentException($"Scheduler.LoadStateDict: the state's base learning rates and momentum must have one value per group ({_base.Length})", nameof(state));
        var groups = Groups(nameof(LoadStateDict));
        for (int i = 0; i < groups.Count; i++)
        {
            if (state.LastMomentums[i] is not null && !ParamGroups.HasMomentum(Optimizer, groups[i]))
                throw new ArgumentException($"Scheduler.LoadStateDict: the state sets the momentum of group {i}, but {Optimizer.GetType().Name} has none", nameof(state));
        }
        LastStep = state.LastStep;
        state.BaseLearningRates.CopyTo(_base, 0);
        state.LastLearningRates.CopyTo(Last, 0);
        state.LastMomentums.CopyTo(_momentum, 0);
        for (int i = 0; i < groups.Count; i++)
        {
            groups[i].InitialLearningRate = _base[i];
            groups[i].LearningRate = Last[i];
            if (_momentum[i] is { } m) ParamGroups.SetMomentum(Optimizer, groups[i], m);
        }
    }
}
