namespace Engine.Training.Callbacks;

/// <summary>
/// Writes scalars to TensorBoard event files through TorchSharp's
/// <c>torch.utils.tensorboard.SummaryWriter</c> (TFRecord framing of Event protobufs): every epoch
/// log under its name ("loss", "val_accuracy", "lr") at step = epoch (0-based, as Keras), and with
/// <c>updateFreq</c> > 0 the batch loss under "batch_loss" at step = global step every updateFreq
/// batches (each a host read at that logging point). The writer, and so the event file, is made at
/// train begin, after the dry run passed. TorchSharp's writer opens, appends and closes the file
/// per event, so every value is on disk when its call returns.
/// </summary>
public sealed class TensorBoard(string logDir, int updateFreq = 0) : Callback
{
    /// <summary>Writes: rank 0 only in data-parallel training.</summary>
    public override bool MainRankOnly => true;

    TorchSharp.Modules.SummaryWriter? _writer;

    public string LogDir { get; } = logDir ?? throw new ArgumentNullException(nameof(logDir));
    public int UpdateFreq { get; } = updateFreq >= 0 ? updateFreq : throw new ArgumentOutOfRangeException(nameof(updateFreq), updateFreq, "TensorBoard: updateFreq must be non-negative");

    /// <summary>The writer (null before train begin).</summary>
    public TorchSharp.Modules.SummaryWriter? Writer => _writer;

    // TensorBoard reads wall_time as Unix seconds; TorchSharp's default would write DateTime ticks.
    static long WallTime => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public override void OnTrainBegin() => _writer ??= torch.utils.tensorboard.SummaryWriter(LogDir);

    public override void OnBatchEnd(long batch, Tensor loss)
    {
        if (UpdateFreq == 0 || (batch + 1) % UpdateFreq != 0) return;
        _writer!.add_scalar("batch_loss", loss.to(ScalarType.Float32).item<float>(), checked((int)Trainer.GlobalStep), WallTime);
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        foreach (var (name, value) in logs) _writer!.add_scalar(name, (float)value, epoch, WallTime);
    }
}
