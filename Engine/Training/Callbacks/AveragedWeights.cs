using Engine.Averaging;

namespace Engine.Training.Callbacks;

/// <summary>
/// Keeps a weight average (<see cref="ExponentialMovingAverage"/> or
/// <see cref="StochasticWeightAveraging"/>) of the model during Fit, the way Lightning's
/// StochasticWeightAveraging and timm's ModelEma callbacks do:
/// <code>
/// after every optimizer step (or every epoch's end) from epoch startEpoch on:  average.Update(model)
/// at the end of training (copyAtEnd):  model ← average; for SWA without averaged buffers, one pass
///                                      over the training data refreshes BatchNorm's statistics
/// </code>
/// The validation of each epoch still sees the model's own weights; evaluate the average with
/// <c>average.WithAveragedWeights(model, () => trainer.Evaluate(data))</c>.
/// </summary>
public sealed class AveragedWeights : Callback
{
    readonly WeightAverage _average;
    readonly int _startEpoch;
    readonly bool _everyStep, _copyAtEnd;
    long _lastStep = -1;

    /// <param name="average">The average, built on this model.</param>
    /// <param name="startEpoch">The first epoch (0-based) whose weights enter the average (SWA starts late in training).</param>
    /// <param name="everyStep">Update after every optimizer step (EMA's usual way); false: at each epoch's end (SWA's).</param>
    /// <param name="copyAtEnd">Copy the average into the model when training ends.</param>
    public AveragedWeights(WeightAverage average, int startEpoch = 0, bool everyStep = true, bool copyAtEnd = true)
    {
        _average = average ?? throw new ArgumentNullException(nameof(average));
        if (startEpoch < 0) throw new ArgumentOutOfRangeException(nameof(startEpoch), startEpoch, "AveragedWeights: startEpoch must be non-negative");
        _startEpoch = startEpoch;
        _everyStep = everyStep;
        _copyAtEnd = copyAtEnd;
    }

    public WeightAverage Average => _average;

    public override void OnBatchEnd(long batch, Tensor loss)
    {
        if (!_everyStep || Trainer.Epoch < _startEpoch || Trainer.GlobalStep == _lastStep || Trainer.InAccumulation) return;
        _lastStep = Trainer.GlobalStep;
        _average.Update(Trainer.Model);
    }

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (!_everyStep && epoch >= _startEpoch) _average.Update(Trainer.Model);
    }

    public override void OnTrainEnd(History history)
    {
        if (!_copyAtEnd || _average.Updates == 0) return;
        _average.CopyTo(Trainer.Model);
        if (_average is StochasticWeightAveraging && !_average.UseBuffers && Trainer.TrainData is { } data)
            StochasticWeightAveraging.UpdateBatchNorm(Trainer.Model, data);
    }
}
