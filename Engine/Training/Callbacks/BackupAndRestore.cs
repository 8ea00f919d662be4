using System.Text.Json;
using Engine.Checkpoints;
using Engine.Data;
using Engine.Schedules;

namespace Engine.Training.Callbacks;

/// <summary>
/// Fault tolerance (Keras' <c>BackupAndRestore</c>): saves the whole run to one checkpoint file,
/// atomically, every <c>saveEverySteps</c> optimizer steps (or at each epoch's end), and at the
/// start of a Fit finds that file and continues from it. A run killed at any point (SIGKILL
/// included) and started again with the same code repeats the uninterrupted run's losses bit for
/// bit: the checkpoint (<see cref="TrainingCheckpoint"/>) holds
/// <code>
/// model and optimizer state, torch's CPU generator        (TrainingCheckpoint itself)
/// epoch, global step, batch within the epoch              (Trainer.Epoch, GlobalStep, BatchInEpoch)
/// the training DataLoader's position                      (epoch order generator, batches seen,
///                                                          augmentation generators)
/// the Trainer's schedule (Options.Scheduler)              (its state_dict)
/// the step strategy's state (a loss scaler)               (IStatefulStepStrategy)
/// </code>
/// A kill during a write leaves the previous checkpoint whole (AtomicFile): the run restarts from
/// there. Checkpoints are taken only between optimizer steps (never inside an accumulation group).
/// <para>
/// What does not come back: the running means of the epoch's training metrics when a run resumes
/// mid-epoch (the epoch's logged loss and metrics then cover the batches after the resume), and
/// the state of TorchSharp's own LRScheduler (Options.TorchScheduler; it has no state_dict), which
/// this callback refuses. CUDA: TorchSharp 0.107 cannot read a CUDA generator's state, so on a
/// CUDA model every checkpoint reseeds the CUDA generators with a seed derived from the step and
/// stores it; the resumed run reseeds them with it, and both runs draw the same from there.
/// </para>
/// </summary>
public sealed class BackupAndRestore : Callback
{
    readonly long _saveEverySteps;
    readonly bool _deleteOnEnd;
    long _lastSavedStep = -1;

    /// <param name="path">The checkpoint file (its folder is created when needed).</param>
    /// <param name="saveEverySteps">Save every this many optimizer steps; 0 saves at each epoch's end.</param>
    /// <param name="deleteOnEnd">Delete the checkpoint when Fit ends normally (Keras' delete_checkpoint);
    /// off by default, so a finished run started again does nothing.</param>
    public BackupAndRestore(string path, long saveEverySteps = 0, bool deleteOnEnd = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (saveEverySteps < 0)
            throw new ArgumentOutOfRangeException(nameof(saveEverySteps), saveEverySteps, "BackupAndRestore: saveEverySteps must be 0 (each epoch's end) or positive");
        Path = System.IO.Path.GetFullPath(path);
        _saveEverySteps = saveEverySteps;
        _deleteOnEnd = deleteOnEnd;
    }

    /// <summary>The checkpoint file.</summary>
    public string Path { get; }

    /// <summary>Whether this Fit continued from a checkpoint.</summary>
    public bool Restored { get; private set; }

    public override void OnFitStart()
    {
        if (Trainer.Options.TorchScheduler is not null)
            throw new ArgumentException("BackupAndRestore: TorchSharp's LRScheduler (TrainerOptions.TorchScheduler) has no state to save; use an Engine schedule (TrainerOptions.Scheduler) to resume exactly");
        Restored = false;
        if (!File.Exists(Path)) return;
        using var checkpoint = TrainingCheckpoint.Load(Path, Trainer.Model, Trainer.Optimizer);
        var values = checkpoint.Values;
        Trainer.Epoch = checked((int)checkpoint.Epoch);
        Trainer.GlobalStep = checkpoint.Step;
        Trainer.BatchInEpoch = long.Parse(values["batch"], System.Globalization.CultureInfo.InvariantCulture);
        if (values.TryGetValue("loader", out var loader))
        {
            if (Trainer.TrainData is not DataLoader dl)
                throw new InvalidOperationException($"BackupAndRestore: {Path} holds a DataLoader position but the training data is a {Trainer.TrainData?.GetType().Name}");
            dl.Restore(JsonSerializer.Deserialize<DataLoaderState>(loader)!);
        }
        else if (Trainer.BatchInEpoch > 0)
            throw new InvalidOperationException($"BackupAndRestore: {Path} was saved mid-epoch without a DataLoader position; cannot resume mid-epoch");
        if (values.TryGetValue("scheduler", out var schedule))
            (Trainer.Options.Scheduler ?? throw new InvalidOperationException($"BackupAndRestore: {Path} holds a schedule's state but the Trainer has no Options.Scheduler"))
                .LoadStateDict(SchedulerState.FromJson(schedule));
        var strategy = checkpoint.Tensors.Where(kv => kv.Key.StartsWith("strategy.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["strategy.".Length..], kv => kv.Value);
        if (strategy.Count > 0)
            (Trainer.Options.StepStrategy as IStatefulStepStrategy ?? throw new InvalidOperationException($"BackupAndRestore: {Path} holds a step strategy's state but the Trainer's strategy keeps none"))
                .load_state_dict(strategy);
        if (values.TryGetValue("cuda.seed", out var cudaSeed))
            torch.cuda.manual_seed_all(long.Parse(cudaSeed, System.Globalization.CultureInfo.InvariantCulture));
        _lastSavedStep = checkpoint.Step;
        Restored = true;
    }

    public override void OnBatchEnd(long batch, Tensor loss)
    {
        if (_saveEverySteps == 0 || Trainer.InAccumulation) return;
        if (Trainer.GlobalStep == _lastSavedStep || Trainer.GlobalStep % _saveEverySteps != 0) return;
        Save();
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (_saveEverySteps == 0) Save();
    }

    public override void OnTrainEnd(History history)
    {
        if (_deleteOnEnd && !Trainer.StopTraining && Trainer.Epoch >= Trainer.Epochs) File.Delete(Path);
    }

    void Save()
    {
        using var state = new TrainingCheckpoint { Epoch = Trainer.Epoch, Step = Trainer.GlobalStep };
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        state.Values["batch"] = Trainer.BatchInEpoch.ToString(ci);
        if (Trainer.TrainData is DataLoader dl) state.Values["loader"] = JsonSerializer.Serialize(dl.State);
        if (Trainer.Options.Scheduler is { } scheduler) state.Values["scheduler"] = scheduler.StateDict().ToJson();
        if (Trainer.Options.StepStrategy is IStatefulStepStrategy s)
            foreach (var (name, tensor) in s.state_dict()) state.Tensors["strategy." + name] = tensor;
        bool cudaModel = Trainer.Device.type == DeviceType.CUDA;
        long cudaSeed = 0;
        if (cudaModel)
        {
            cudaSeed = unchecked((long)(0x9E3779B97F4A7C15UL * (ulong)(Trainer.GlobalStep + 1)) & long.MaxValue);
            state.Values["cuda.seed"] = cudaSeed.ToString(ci);
        }
        var folder = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        // Data-parallel ranks hold the same weights, optimizer state and loader position: rank 0
        // writes, every rank restores from its file.
        if (Trainer.Group is not { IsMain: false }) TrainingCheckpoint.Save(Path, Trainer.Model, Trainer.Optimizer, state);
        if (cudaModel) torch.cuda.manual_seed_all(cudaSeed);
        _lastSavedStep = Trainer.GlobalStep;
    }
}
