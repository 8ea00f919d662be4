using Engine.Schedules;

namespace Engine.Training.Callbacks;

/// <summary>
/// Keras' ReduceLROnPlateau callback over Engine's <see cref="Schedules.ReduceLROnPlateau"/>
/// (PyTorch's rules, checked against PyTorch and TorchSharp there): at each epoch end the monitored
/// value steps it; after more than <c>patience</c> epochs without improvement every group's lr is
/// multiplied by <c>factor</c>, not below <c>minLr</c>. Note the counting differs from Keras by one
/// (Keras reduces once wait ≥ patience, PyTorch once bad epochs > patience), and the threshold is
/// PyTorch's (relative 1e-4 by default; Keras' min_delta is <c>thresholdMode: Abs</c>).
/// </summary>
public sealed class ReduceLROnPlateauCallback(string monitor = "val_loss", double factor = 0.1, int patience = 10,
    MonitorMode mode = MonitorMode.Auto, double threshold = 1e-4, ThresholdMode thresholdMode = ThresholdMode.Rel,
    int cooldown = 0, double minLr = 0) : Callback
{
    public string Monitor { get; } = monitor ?? throw new ArgumentNullException(nameof(monitor));

    /// <summary>The scheduler this callback steps (built at train begin on the trainer's optimizer).</summary>
    public Schedules.ReduceLROnPlateau? Scheduler { get; private set; }

    public override IEnumerable<string> Monitors => [Monitor];

    public override void OnTrainBegin() =>
        Scheduler ??= new Schedules.ReduceLROnPlateau(Trainer.Optimizer, Callbacks.Monitor.Maximizes(Monitor, mode) ? PlateauMode.Max : PlateauMode.Min,
            factor, patience, threshold, thresholdMode, cooldown, minLr);

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) =>
        Scheduler!.Step(Callbacks.Monitor.Read(logs, Monitor, nameof(ReduceLROnPlateauCallback)));
}
