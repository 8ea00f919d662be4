namespace Engine.Training.Callbacks;

/// <summary>
/// Stops training when a monitored value has stopped improving (Keras 3's EarlyStopping, same
/// rules). At each epoch end from <c>startFromEpoch</c> on, with current = logs[monitor]:
/// <code>
/// improvement(v, ref) = ref is none  or  v − minDelta·s ≷ ref      (&lt; for min with s = −1, > for max with s = +1)
/// wait += 1
/// if improvement(current, best):  best = current (and its weights);  if no baseline or improvement(current, baseline): wait = 0
/// else if wait ≥ patience and epoch > 0:  stop training
/// at train end: restoreBestWeights and best weights kept → load them (even if training ran to the end)
/// </code>
/// Mode Auto maximizes names with acc/auc/precision/recall/f1 and minimizes the rest. With a
/// baseline, training stops after <c>patience</c> epochs that do not beat it.
/// </summary>
public sealed class EarlyStopping : Callback
{
    readonly double _minDelta; // signed as Keras keeps it: negative when minimizing
    Dictionary<string, Tensor>? _bestWeights;

    public EarlyStopping(string monitor = "val_loss", double minDelta = 0, int patience = 0, MonitorMode mode = MonitorMode.Auto,
        double? baseline = null, bool restoreBestWeights = false, int startFromEpoch = 0)
    {
        Monitor = monitor ?? throw new ArgumentNullException(nameof(monitor));
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), patience, "EarlyStopping: patience must be non-negative");
        if (!double.IsFinite(minDelta)) throw new ArgumentOutOfRangeException(nameof(minDelta), minDelta, "EarlyStopping: minDelta must be finite");
        Maximize = Callbacks.Monitor.Maximizes(monitor, mode);
        _minDelta = Math.Abs(minDelta) * (Maximize ? 1 : -1);
        Patience = patience;
        Baseline = baseline;
        RestoreBestWeights = restoreBestWeights;
        StartFromEpoch = startFromEpoch;
    }

    public string Monitor { get; }
    public bool Maximize { get; }
    public int Patience { get; }
    public double? Baseline { get; }
    public bool RestoreBestWeights { get; }
    public int StartFromEpoch { get; }

    /// <summary>The best value seen (null before the first counted epoch).</summary>
    public double? Best { get; private set; }
    public int BestEpoch { get; private set; }
    /// <summary>Epochs since the last improvement.</summary>
    public int Wait { get; private set; }
    /// <summary>The epoch training was stopped at (0 when it was not).</summary>
    public int StoppedEpoch { get; private set; }

    public override IEnumerable<string> Monitors => [Monitor];

    bool IsImprovement(double value, double? reference) =>
        reference is not { } r || (Maximize ? value - _minDelta > r : value - _minDelta < r);

    public override void OnTrainBegin()
    {
        Wait = 0;
        StoppedEpoch = 0;
        Best = null;
        BestEpoch = 0;
        FreeWeights();
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        double current = Callbacks.Monitor.Read(logs, Monitor, nameof(EarlyStopping));
        if (epoch < StartFromEpoch) return;
        if (RestoreBestWeights && _bestWeights is null)
        {
            // Never improved yet: the current weights are the best known.
            KeepWeights();
            BestEpoch = epoch;
        }
        Wait++;
        if (IsImprovement(current, Best))
        {
            Best = current;
            BestEpoch = epoch;
            if (RestoreBestWeights) KeepWeights();
            if (Baseline is null || IsImprovement(current, Baseline)) Wait = 0;
            return;
        }
        if (Wait >= Patience && epoch > 0)
        {
            StoppedEpoch = epoch;
            Trainer.StopTraining = true;
        }
    }

    public override void OnTrainEnd(History history)
    {
        if (RestoreBestWeights && _bestWeights is not null) Checkpoints.StateDicts.LoadInto(Trainer.Model, _bestWeights);
        FreeWeights();
    }

    void KeepWeights()
    {
        FreeWeights();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope(); // the detach() views die here, the clones are kept
        _bestWeights = Trainer.Model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
    }

    void FreeWeights()
    {
        if (_bestWeights is null) return;
        foreach (var t in _bestWeights.Values) t.Dispose();
        _bestWeights = null;
    }
}
