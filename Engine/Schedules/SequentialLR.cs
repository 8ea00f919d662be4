namespace Engine.Schedules;

/// <summary>
/// Schedules one after another (torch.optim.lr_scheduler.SequentialLR; optax's
/// <c>join_schedules</c>): schedule i runs from milestone i − 1 and is started at its own step 0
/// there. The seed's warmup then cosine is
/// <c>new SequentialLR([new LinearLR(0, 1, W), new CosineAnnealingLR(N − W)], [W])</c>
/// (<see cref="Schedule.WarmupCosine"/>).
/// <code>
/// i = number of milestones ≤ t,  local = t − milestones[i − 1] (t for i = 0)
/// η_t = schedules[i] at local
/// </code>
/// Stepping follows PyTorch: at a milestone the next schedule restarts from its closed form at step
/// 0 (PyTorch's <c>step(0)</c>), MultiplicativeLR from the lr the group holds; between milestones
/// each steps with its chainable form. PyTorch 1.13 cannot nest a SequentialLR or ChainedScheduler
/// after the first position (its step() takes no epoch); here any schedule can be a part.
/// Checked against PyTorch 1.13 (schedules.json).
/// </summary>
public sealed class SequentialLR : Schedule
{
    readonly Schedule[] _schedules;
    readonly long[] _milestones;

    public SequentialLR(IReadOnlyList<Schedule> schedules, IReadOnlyList<long> milestones)
    {
        const string name = nameof(SequentialLR);
        _schedules = Require.NotNull(schedules, name, nameof(schedules)).ToArray();
        if (_schedules.Length < 2)
            throw new ArgumentException($"{name}: needs at least 2 schedules, got {_schedules.Length}", nameof(schedules));
        for (int i = 0; i < _schedules.Length; i++)
            if (_schedules[i] is null) throw new ArgumentNullException(nameof(schedules), $"{name}: schedule {i} is null");
        Require.NotNull(milestones, name, nameof(milestones));
        if (milestones.Count != _schedules.Length - 1)
            throw new ArgumentException($"{name}: {_schedules.Length} schedules need {_schedules.Length - 1} milestones, got {milestones.Count}", nameof(milestones));
        _milestones = Require.IncreasingSteps(milestones, 1, name, nameof(milestones));
    }

    public IReadOnlyList<Schedule> Schedules => _schedules;
    public IReadOnlyList<long> Milestones => _milestones;

    /// <summary>The schedule running at a step, and the step in its own count.</summary>
    (int Index, long Local) Locate(long step)
    {
        int i = Array.BinarySearch(_milestones, step);
        i = i >= 0 ? i + 1 : ~i;
        return (i, i == 0 ? step : step - _milestones[i - 1]);
    }

    protected internal override double At(long step, double baseLr)
    {
        var (i, local) = Locate(step);
        var schedule = _schedules[i];
        // A schedule that continues from the current lr starts from where the one before it ended.
        if (i > 0 && schedule.ContinuesFromCurrent) return schedule.At(local, At(_milestones[i - 1] - 1, baseLr));
        return schedule.At(local, baseLr);
    }

    protected internal override double Next(long step, double currentLr, double baseLr)
    {
        // PyTorch's SequentialLR puts the groups back to their initial lr before its first step.
        if (step == 0) return _schedules[0].Next(0, baseLr, baseLr);
        var (i, local) = Locate(step);
        var schedule = _schedules[i];
        if (i > 0 && local == 0) return schedule.ContinuesFromCurrent ? currentLr : schedule.At(0, baseLr);
        return schedule.Next(local, currentLr, baseLr);
    }

    protected internal override double? MomentumAt(long step)
    {
        var (i, local) = Locate(step);
        return _schedules[i].MomentumAt(local);
    }

    public override bool CyclesMomentum => _schedules.Any(s => s.CyclesMomentum);

    public override string ToString() => $"SequentialLR([{string.Join(", ", _schedules.Select(s => s.ToString()))}], milestones: [{string.Join(", ", _milestones)}])";
}
