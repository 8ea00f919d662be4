namespace Engine.Training;

/// <summary>
/// How a micro-batch's loss becomes gradients and gradients become an optimizer step: the hook
/// where mixed precision plugs in (a loss scaler scales the loss in <see cref="Backward"/>, divides
/// the gradients back in <see cref="UnscaleGradients"/> and skips the step on overflow in
/// <see cref="Step"/>, as PyTorch's GradScaler.scale / unscale_ / step). The Trainer calls, per
/// optimizer step:
/// <code>
/// ZeroGrad(optimizer)              at the start of an accumulation group
/// for each micro-batch:  Backward(loss / accumulationCount)
/// UnscaleGradients(optimizer)      gradients are true gradients from here on
/// clip (norm or value)             on the unscaled gradients of the optimizer's parameters
/// stepped = Step(optimizer)        false: the step was skipped (the schedule does not advance)
/// </code>
/// </summary>
public interface IStepStrategy
{
    /// <summary>Zeroes every gradient the next group accumulates into (the optimizer's, and a
    /// low-precision model's own when they differ).</summary>
    void ZeroGrad(torch.optim.Optimizer optimizer);

    /// <summary>Back-propagates a micro-batch's (already divided) loss.</summary>
    void Backward(Tensor loss);

    /// <summary>Turns the accumulated gradients into the true gradients (a no-op without scaling).</summary>
    void UnscaleGradients(torch.optim.Optimizer optimizer);

    /// <summary>Steps the optimizer, or skips the step; returns whether it stepped.</summary>
    bool Step(torch.optim.Optimizer optimizer);
}

/// <summary>Full precision: <c>loss.backward()</c>, nothing to unscale, <c>optimizer.step()</c> always.</summary>
public sealed class DefaultStepStrategy : IStepStrategy
{
    public static DefaultStepStrategy Instance { get; } = new();

    public void ZeroGrad(torch.optim.Optimizer optimizer) => optimizer.zero_grad();

    public void Backward(Tensor loss) => loss.backward();

    public void UnscaleGradients(torch.optim.Optimizer optimizer) { }

    public bool Step(torch.optim.Optimizer optimizer)
    {
        optimizer.step();
        return true;
    }
}
