namespace Engine.Schedules;

/// <summary>When a training loop steps a scheduler: after every batch or after every epoch. A
/// schedule counts whichever it is stepped on; to follow an epoch-based schedule smoothly batch by
/// batch, give its lengths in batches (CosineAnnealingLR(tMax: epochs × batchesPerEpoch)).</summary>
public enum StepEvery
{
    /// <summary>Once per epoch (PyTorch's usual pattern; StepLR's "every 30 epochs").</summary>
    Epoch,
    /// <summary>Once per optimizer step (OneCycleLR, CyclicLR, warmup over steps).</summary>
    Batch,
}

/// <summary>
/// What sets an optimizer's learning rates as training goes (PyTorch's LRScheduler): a
/// <see cref="Scheduler"/> driven by a <see cref="Schedule"/>, or <see cref="ReduceLROnPlateau"/>
/// driven by a metric. A training loop calls <see cref="OnBatchEnd"/> after each optimizer step and
/// <see cref="OnEpochEnd"/> after each epoch; the scheduler steps on the one its
/// <see cref="Every"/> names. Save and restore it with <see cref="StateDict"/> and
/// <see cref="LoadStateDict"/> beside the optimizer's state.
/// <para>
/// It drives any TorchSharp <see cref="torch.optim.Optimizer"/> (TorchSharp's built-ins, Engine's,
/// a user's <c>OptimizerHelper</c>) through <c>optimizer.ParamGroups</c>: each group's
/// <see cref="torch.optim.ILearningRateController"/>, and its <see cref="torch.optim.IMomentum"/> or
/// <see cref="torch.optim.IBetas"/> for schedules that cycle momentum. Unlike TorchSharp's
/// schedulers, its state can be saved and restored.
/// </para>
/// </summary>
public abstract class LRScheduler
{
    private protected readonly double[] Last;

    private protected LRScheduler(torch.optim.Optimizer optimizer, StepEvery every)
    {
        Optimizer = optimizer ?? throw new ArgumentNullException(nameof(optimizer), $"{GetType().Name}: optimizer is null");
        if (!Enum.IsDefined(every)) throw new ArgumentOutOfRangeException(nameof(every), every, $"{GetType().Name}: unknown StepEvery {every}");
        Every = every;
        var groups = ParamGroups.Of(optimizer);
        if (groups.Count == 0) throw new ArgumentException($"{GetType().Name}: {optimizer.GetType().Name} has no parameter groups", nameof(optimizer));
        Last = new double[groups.Count];
        for (int i = 0; i < Last.Length; i++) Last[i] = groups[i].LearningRate;
    }

    /// <summary>The optimizer whose groups this scheduler sets.</summary>
    public torch.optim.Optimizer Optimizer { get; }

    /// <summary>Whether <see cref="OnBatchEnd"/> or <see cref="OnEpochEnd"/> steps this scheduler.</summary>
    public StepEvery Every { get; }

    /// <summary>How many times the scheduler has stepped (PyTorch's last_epoch).</summary>
    public long LastStep { get; private protected set; }

    /// <summary>Every group's lr as this scheduler last set it (get_last_lr()).</summary>
    public IReadOnlyList<double> LastLearningRates => Array.AsReadOnly(Last);

    /// <summary>Called by a training loop after each optimizer step; steps when <see cref="Every"/> is Batch.</summary>
    public void OnBatchEnd(double? metric = null)
    {
        if (Every == StepEvery.Batch) StepOn(metric);
    }

    /// <summary>Called by a training loop after each epoch (with the validation metric, which
    /// ReduceLROnPlateau needs); steps when <see cref="Every"/> is Epoch.</summary>
    public void OnEpochEnd(double? metric = null)
    {
        if (Every == StepEvery.Epoch) StepOn(metric);
    }

    /// <summary>One step, with the metric when there is one.</summary>
    private protected abstract void StepOn(double? metric);

    /// <summary>Everything needed to resume: a resumed run sets exactly the learning rates an
    /// uninterrupted one does.</summary>
    public abstract SchedulerState StateDict();

    /// <summary>Restores <see cref="StateDict"/>'s state, and writes the saved learning rates (and
    /// momentum) back into the optimizer's groups, so resuming is exact even if the optimizer's own
    /// state was not loaded.</summary>
    public abstract void LoadStateDict(SchedulerState state);

    /// <summary>The optimizer's groups, checked to be as many as when the scheduler was built.</summary>
    private protected IReadOnlyList<torch.optim.ILearningRateController> Groups(string what)
    {
        var groups = ParamGroups.Of(Optimizer);
        if (groups.Count != Last.Length)
            throw new InvalidOperationException($"{GetType().Name}.{what}: the optimizer has {groups.Count} parameter groups; the scheduler was built for {Last.Length}");
        return groups;
    }

    private protected void CheckState(SchedulerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.Kind != GetType().Name)
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: the state is of a {state.Kind}", nameof(state));
        if (state.LastLearningRates.Length != Last.Length)
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: the state has {state.LastLearningRates.Length} parameter groups, the optimizer {Last.Length}", nameof(state));
        if (state.LastStep < 0)
            throw new ArgumentOutOfRangeException(nameof(state), state.LastStep, $"{GetType().Name}.LoadStateDict: LastStep must be >= 0, got {state.LastStep}");
        Groups("LoadStateDict");
    }
}
