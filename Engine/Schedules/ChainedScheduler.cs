namespace Engine.Schedules;

/// <summary>
/// Several schedules at once (torch.optim.lr_scheduler.ChainedScheduler): at every step each one
/// steps in turn on the lr the one before it set, so chainable schedules multiply
/// (ConstantLR(0.1, 20) then ExponentialLR(0.97): η_t = η₀ · 0.1 (for t &lt; 20) · 0.97^t).
/// <code>
/// step():  η ← s₁.step(η) ← s₂.step(…) …  (each schedule's chainable form, in order)
/// closed form:  η = s_n(t, … s₂(t, s₁(t, η₀)))  (a schedule that is not chainable restarts from η₀)
/// </code>
/// Stepping reproduces PyTorch exactly. Schedules PyTorch computes from the base lr (LambdaLR,
/// OneCycleLR, CyclicLR, CosineAnnealingWarmRestarts, and the Keras formulas here) replace what
/// came before them, as in PyTorch. The closed form equals the stepped one (to rounding) when the
/// members are multiplicative; a CosineAnnealingLR with a floor inside a chain has no closed form
/// in PyTorch and differs. Momentum comes from the last member that cycles it.
/// Checked against PyTorch 1.13 (schedules.json).
/// </summary>
public sealed class ChainedScheduler : Schedule
{
    readonly Schedule[] _schedules;

    public ChainedScheduler(params IReadOnlyList<Schedule> schedules)
    {
        const string name = nameof(ChainedScheduler);
        _schedules = Require.NotNull(schedules, name, nameof(schedules)).ToArray();
        if (_schedules.Length == 0) throw new ArgumentException($"{name}: needs at least one schedule, got none", nameof(schedules));
        for (int i = 0; i < _schedules.Length; i++)
            if (_schedules[i] is null) throw new ArgumentNullException(nameof(schedules), $"{name}: schedule {i} is null");
    }

    public IReadOnlyList<Schedule> Schedules => _schedules;

    protected internal override double At(long step, double baseLr)
    {
        double lr = baseLr;
        foreach (var s in _schedules) lr = s.At(step, s.Chainable ? lr : baseLr);
        return lr;
    }

    protected internal override double Next(long step, double currentLr, double baseLr)
    {
        double lr = currentLr;
        foreach (var s in _schedules) lr = s.Next(step, lr, baseLr);
        return lr;
    }

    protected internal override double? MomentumAt(long step)
    {
        double? momentum = null;
        foreach (var s in _schedules) momentum = s.MomentumAt(step) ?? momentum;
        return momentum;
    }

    public override bool CyclesMomentum => _schedules.Any(s => s.CyclesMomentum);
    protected internal override bool Chainable => _schedules.All(s => s.Chainable);

    public override string ToString() => $"ChainedScheduler([{string.Join(", ", _schedules.Select(s => s.ToString()))}])";
}
