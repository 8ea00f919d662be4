using Engine.Schedules;

namespace Engine.Training;

/// <summary>How a <see cref="Trainer"/> trains; every option has the plain loop's default.</summary>
public sealed class TrainerOptions
{
    /// <summary>Where the model and each batch go (null: where the model already is). The model is
    /// moved when the Trainer is built; since <c>module.to(device)</c> replaces the parameters, the
    /// optimizer must be built on the moved model (the Trainer checks it).</summary>
    public Device? Device { get; init; }

    /// <summary>Micro-batches per optimizer step (gradient accumulation): each micro-batch's loss is
    /// divided by the number of micro-batches in its group, so with a mean loss and equal batch
    /// sizes k micro-batches of B give the gradient of one batch of k·B. An epoch's last group may
    /// be shorter and is divided by its own length.</summary>
    public int AccumulationSteps { get; init; } = 1;

    /// <summary>Clip the gradients' total norm before each step (Regularization.GradientClipping.ClipGradNorm).</summary>
    public double? ClipGradNorm { get; init; }

    /// <summary>The norm type of <see cref="ClipGradNorm"/> (2: Euclidean, ∞: max).</summary>
    public double ClipNormType { get; init; } = 2.0;

    /// <summary>Clip every gradient element to [−v, v] before each step (GradientClipping.ClipGradValue).</summary>
    public double? ClipGradValue { get; init; }

    /// <summary>An Engine scheduler (a <see cref="Schedules.Scheduler"/> or ReduceLROnPlateau), stepped after
    /// each optimizer step or each epoch as its <see cref="LRScheduler.Every"/> says.</summary>
    public LRScheduler? Scheduler { get; init; }

    /// <summary>A TorchSharp scheduler (<c>torch.optim.lr_scheduler.*</c>), stepped as <see cref="TorchSchedulerEvery"/> says.</summary>
    public torch.optim.lr_scheduler.LRScheduler? TorchScheduler { get; init; }

    public StepEvery TorchSchedulerEvery { get; init; } = StepEvery.Epoch;

    /// <summary>The log value an epoch-stepped scheduler receives (ReduceLROnPlateau's metric), e.g. "val_loss".</summary>
    public string? SchedulerMonitor { get; init; }

    /// <summary>Deterministic mode: Fit calls <c>torch.manual_seed(Seed)</c> before anything else
    /// (dropout and other draws from the global generator repeat). Give the loaders a
    /// <c>new Generator(seed)</c> too: two runs then give bit-identical losses on CPU. TorchSharp
    /// 0.107 marks <c>use_deterministic_algorithms</c> "not implemented", so CUDA kernels with
    /// nondeterministic atomics (index_add, scatter_add backward) are not forced deterministic.</summary>
    public long? Seed { get; init; }

    /// <summary>Backward and step (the mixed-precision hook); null: <see cref="DefaultStepStrategy"/>.</summary>
    public IStepStrategy? StepStrategy { get; init; }

    /// <summary>Data-parallel training over a <see cref="Distributed.ProcessGroup"/>: every step's
    /// gradients are averaged over the ranks (<see cref="Distributed.DataParallel"/>, wrapped around
    /// <see cref="StepStrategy"/>), the epoch's loss and metrics are summed over the ranks before they
    /// are read (every rank sees the same logs, so EarlyStopping and ReduceLROnPlateau decide alike), a
    /// stop requested on any rank stops every rank, and callbacks that write (checkpoints, logs,
    /// progress: <see cref="Callbacks.Callback.MainRankOnly"/>) run on rank 0 only, and at each
    /// epoch's end rank 0's buffers (running statistics) are broadcast before validation. Give each
    /// rank its shard of the data (<see cref="Data.DistributedSampler"/>).</summary>
    public Distributed.DataParallel? DataParallel { get; init; }

    /// <summary>Run the dry run (one forward and loss on the first batch, see <see cref="Trainer.DryRun"/>) before training.</summary>
    public bool DryRun { get; init; } = true;

    /// <summary>Check targets against the output in the dry run (class indices in range, equal
    /// shapes for float targets). Turn off for losses with other target layouts (CTC, contrastive).</summary>
    public bool CheckTargets { get; init; } = true;

    internal void Validate()
    {
        if (AccumulationSteps < 1) throw new ArgumentOutOfRangeException(nameof(AccumulationSteps), AccumulationSteps, "Trainer: AccumulationSteps must be at least 1");
        if (ClipGradNorm is { } n && !(n > 0)) throw new ArgumentOutOfRangeException(nameof(ClipGradNorm), n, "Trainer: ClipGradNorm must be positive");
        if (ClipGradValue is { } v && !(v > 0)) throw new ArgumentOutOfRangeException(nameof(ClipGradValue), v, "Trainer: ClipGradValue must be positive");
    }
}
