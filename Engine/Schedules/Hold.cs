namespace Engine.Schedules;

/// <summary>A schedule held at its value of <see cref="LastStep"/> from then on
/// (<see cref="Schedule.HoldAfter"/>).</summary>
internal sealed class Hold(Schedule inner, long lastStep) : Schedule
{
    public long LastStep => lastStep;

    protected internal override double At(long step, double baseLr) => inner.At(Math.Min(step, lastStep), baseLr);

    protected internal override double Next(long step, double currentLr, double baseLr) =>
        step <= lastStep ? inner.Next(step, currentLr, baseLr)
        : inner.Chainable ? currentLr // times 1: what the group holds is the held value (and what others in a chain made of it)
        : inner.At(lastStep, baseLr);

    protected internal override double? MomentumAt(long step) => inner.MomentumAt(Math.Min(step, lastStep));

    public override bool CyclesMomentum => inner.CyclesMomentum;
    protected internal override bool Chainable => inner.Chainable;
    protected internal override bool ContinuesFromCurrent => inner.ContinuesFromCurrent;

    public override string ToString() => $"{inner}.HoldAfter({lastStep})";
}
