namespace Engine.Training.Callbacks;

/// <summary>
/// An extension point of <see cref="Trainer.Fit"/> (Keras' Callback, Lightning's Callback): small
/// objects with a few hooks, called in this order:
/// <code>
/// OnFitStart                           restore an interrupted run (reads only)
/// OnTrainBegin                         after the dry run passed (nothing is written before it)
///   OnEpochBegin(e)
///     OnBatchBegin(b) … OnBatchEnd(b, loss)     per training batch
///   OnEpochEnd(e, logs)                logs: loss, metrics, val_… and lr of epoch e
/// OnTrainEnd(history)                  also when training fails after OnTrainBegin (close files)
/// </code>
/// Epochs count from 0 as in Keras. <see cref="Trainer"/> is set before OnFitStart; set
/// <c>Trainer.StopTraining</c> to stop after the current batch's epoch ends (Keras'
/// model.stop_training). A callback that reads a metric names it in <see cref="Monitors"/>, so a
/// name nothing provides fails at train begin, not after an epoch.
/// </summary>
public abstract class Callback
{
    /// <summary>The trainer running this callback (set by Fit before <see cref="OnTrainBegin"/>).</summary>
    public Trainer Trainer { get; internal set; } = null!;

    /// <summary>In data-parallel training, run only on rank 0: true for callbacks whose work is
    /// writing (checkpoints, CSV/TensorBoard logs, progress), false for those that decide (early
    /// stopping, learning-rate changes), which must run on every rank to keep the ranks alike.</summary>
    public virtual bool MainRankOnly => false;

    /// <summary>The log names this callback reads at epoch end.</summary>
    public virtual IEnumerable<string> Monitors => [];

    /// <summary>At the start of Fit, before the dry run draws the first batch and before any
    /// other hook: a callback that restores an interrupted run (BackupAndRestore) reads its state
    /// here. Nothing may be written here: a failing dry run must leave no file behind.</summary>
    public virtual void OnFitStart() { }

    public virtual void OnTrainBegin() { }
    public virtual void OnTrainEnd(History history) { }
    public virtual void OnEpochBegin(int epoch) { }
    public virtual void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) { }
    public virtual void OnBatchBegin(long batch) { }

    /// <summary><paramref name="loss"/> is the batch's mean loss, detached, still on device and alive
    /// only during this call: read it (a host sync) only at logging points, clone it to keep it.</summary>
    public virtual void OnBatchEnd(long batch, Tensor loss) { }
}

/// <summary>Whether a monitored value should fall or rise.</summary>
public enum MonitorMode { Auto, Min, Max }

internal static class Monitor
{
    /// <summary>Keras' "auto": rise for accuracies, AUC, precision/recall/F1, fall otherwise (losses, errors).</summary>
    public static bool Maximizes(string monitor, MonitorMode mode)
    {
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown MonitorMode");
        if (mode != MonitorMode.Auto) return mode == MonitorMode.Max;
        var m = monitor.ToLowerInvariant();
        return m.Contains("acc") || m.Contains("auc") || m.Contains("precision") || m.Contains("recall") || m.Contains("f1");
    }

    public static double Read(IReadOnlyDictionary<string, double> logs, string monitor, string who) =>
        logs.TryGetValue(monitor, out var v) ? v
            : throw new KeyNotFoundException($"{who}: no '{monitor}' in this epoch's logs; they have {string.Join(", ", logs.Keys)}");
}
