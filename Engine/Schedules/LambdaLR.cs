namespace Engine.Schedules;

/// <summary>
/// A user's factor (torch.optim.lr_scheduler.LambdaLR; Keras' LearningRateScheduler in factor
/// form): η_t = η₀ · λ(t). PyTorch's per-group lambdas are one LambdaLR per group
/// (<see cref="Scheduler(torch.optim.Optimizer, IReadOnlyList{Schedule}, StepEvery)"/>).
/// The function must be pure (a function of the step only) for resume to be exact.
/// Checked against PyTorch 1.13 (schedules.json).
/// </summary>
public sealed class LambdaLR : Schedule
{
    readonly Func<int, double> _lambda;

    public LambdaLR(Func<int, double> lrLambda) => _lambda = Require.NotNull(lrLambda, nameof(LambdaLR), nameof(lrLambda));

    protected internal override double At(long step, double baseLr) => baseLr * _lambda(Require.IntStep(step, Name));

    public override string ToString() => "LambdaLR(<function>)";
}
