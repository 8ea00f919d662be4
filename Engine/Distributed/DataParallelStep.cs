using Engine.Precision;
using Engine.Training;

namespace Engine.Distributed;

/// <summary>
/// The Trainer's step strategy for data-parallel training: the inner strategy's step (full
/// precision, or mixed precision's loss scaling) with the gradients averaged over the ranks once
/// the accumulation group's last backward is done,
/// <code>
/// ZeroGrad, Backward          inner's (each micro-batch accumulates locally, no communication)
/// UnscaleGradients            parallel.SynchronizeGradients(), then inner.UnscaleGradients
/// Step                        inner's
/// </code>
/// Averaging before unscaling means a loss scaler's overflow check sees the same reduced
/// gradients on every rank, so every rank skips (or takes) the step together and the replicas
/// never diverge. With <see cref="MixedPrecisionStep"/> the optimizer steps fp32 master copies
/// that <see cref="MixedPrecision"/> made from each rank's own model: the constructor broadcasts
/// them from rank 0 too (a collective: every rank constructs the step), so the model and
/// MixedPrecision may be wrapped in either order.
/// </summary>
public sealed class DataParallelStep : IStatefulStepStrategy
{
    readonly IStepStrategy _inner;

    /// <summary>The replicas whose gradients this step averages.</summary>
    public DataParallel Parallel { get; }

    /// <param name="inner">null: <see cref="DefaultStepStrategy.Instance"/>.</param>
    public DataParallelStep(DataParallel parallel, IStepStrategy? inner = null)
    {
        Parallel = parallel ?? throw new ArgumentNullException(nameof(parallel));
        _inner = inner ?? DefaultStepStrategy.Instance;
        if (_inner is MixedPrecisionStep mixed)
        {
            if (!ReferenceEquals(mixed.Precision.Model, parallel.Module))
                throw new ArgumentException("DataParallelStep: the MixedPrecision step's model is not the DataParallel's module; wrap the same model in both", nameof(inner));
            parallel.Broadcast(mixed.Precision.MasterParameters, 0);
        }
    }

    /// <summary>The wrapped strategy.</summary>
    public IStepStrategy Inner => _inner;

    public void ZeroGrad(torch.optim.Optimizer optimizer) => _inner.ZeroGrad(optimizer);

    public void Backward(Tensor loss) => _inner.Backward(loss);

    public void UnscaleGradients(torch.optim.Optimizer optimizer)
    {
        Parallel.SynchronizeGradients();
        _inner.UnscaleGradients(optimizer);
    }

    public bool Step(torch.optim.Optimizer optimizer) => _inner.Step(optimizer);

    /// <summary>The inner strategy's state when it has any, else empty (averaging keeps no state).</summary>
    public Dictionary<string, Tensor> state_dict() =>
        _inner is IStatefulStepStrategy stateful ? stateful.state_dict() : [];

    public void load_state_dict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_inner is IStatefulStepStrategy stateful) stateful.load_state_dict(state);
    }
}
