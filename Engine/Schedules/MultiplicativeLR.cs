namespace Engine.Schedules;

/// <summary>
/// A user's per-step multiplier (torch.optim.lr_scheduler.MultiplicativeLR):
/// <code>
/// η_0 = η,  η_t = η_{t−1} · λ(t)      i.e.  η_t = η₀ · λ(1) · λ(2) ⋯ λ(t)
/// </code>
/// The closed form multiplies in the same order as stepping, so both give the same bits (it costs
/// t multiplications). Started by <see cref="SequentialLR"/> at a milestone, it continues from the
/// lr the group holds, as PyTorch's does. Checked against PyTorch 1.13 (schedules.json).
/// </summary>
public sealed class MultiplicativeLR : Schedule
{
    readonly Func<int, double> _lambda;

    public MultiplicativeLR(Func<int, double> lrLambda) => _lambda = Require.NotNull(lrLambda, nameof(MultiplicativeLR), nameof(lrLambda));

    protected internal override double At(long step, double baseLr)
    {
        int last = Require.IntStep(step, Name);
        double lr = baseLr;
        for (int t = 1; t <= last; t++) lr *= _lambda(t);
        return lr;
    }

    protected internal override double Next(long step, double currentLr, double baseLr) =>
        step == 0 ? currentLr : currentLr * _lambda(Require.IntStep(step, Name));

    protected internal override bool Chainable => true;
    protected internal override bool ContinuesFromCurrent => true;

    public override string ToString() => "MultiplicativeLR(<function>)";
}
