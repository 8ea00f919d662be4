namespace Engine.Training.Callbacks;

/// <summary>
/// Stops training when the loss becomes NaN or infinite (Keras' TerminateOnNaN). Keras reads the
/// loss of every batch; here a device-side flag ORs !isfinite(loss) in each batch (no host sync)
/// and is read every <c>checkEvery</c> batches and at each epoch end, so training stops at most
/// checkEvery − 1 batches after the first bad one (checkEvery = 1 is Keras' behaviour, at a host
/// sync per batch).
/// </summary>
public sealed class TerminateOnNaN : Callback
{
    Tensor? _bad;

    public TerminateOnNaN(int checkEvery = 10)
    {
        if (checkEvery < 1) throw new ArgumentOutOfRangeException(nameof(checkEvery), checkEvery, "TerminateOnNaN: checkEvery must be at least 1");
        CheckEvery = checkEvery;
    }

    public int CheckEvery { get; }

    /// <summary>The batch (within its epoch) at whose check the bad loss was seen, or null.</summary>
    public long? TerminatedAtBatch { get; private set; }

    public override void OnTrainBegin()
    {
        TerminatedAtBatch = null;
        _bad?.Dispose();
        _bad = null;
    }

    public override void OnBatchEnd(long batch, Tensor loss)
    {
        using (var _ = NewDisposeScope())
        {
            var bad = loss.isfinite().logical_not().any();
            if (_bad is null) _bad = bad.clone().DetachFromDisposeScope();
            else _bad.logical_or_(bad);
        }
        if ((batch + 1) % CheckEvery == 0) Check(batch);
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (logs.TryGetValue("loss", out var l) && !double.IsFinite(l) && TerminatedAtBatch is null)
        {
            TerminatedAtBatch = -1;
            Trainer.StopTraining = true;
        }
    }

    void Check(long batch)
    {
        if (_bad is null || !_bad.item<bool>()) return;
        TerminatedAtBatch = batch;
        Trainer.StopTraining = true;
    }

    public override void OnTrainEnd(History history)
    {
        _bad?.Dispose();
        _bad = null;
    }
}
