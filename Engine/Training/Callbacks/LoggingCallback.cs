using Microsoft.Extensions.Logging;

namespace Engine.Training.Callbacks;

/// <summary>
/// Reports training through Microsoft.Extensions.Logging: train begin and end, and one structured
/// Information entry per epoch ("Epoch {Epoch}/{Epochs}: {Logs}", the logs as name=value pairs), a
/// Warning when a callback stopped training early.
/// </summary>
public sealed class LoggingCallback(ILogger logger) : Callback
{
    /// <summary>Writes: rank 0 only in data-parallel training.</summary>
    public override bool MainRankOnly => true;

    readonly ILogger _logger = logger ?? throw new ArgumentNullException(nameof(logger));

    public override void OnTrainBegin() =>
        _logger.LogInformation("Training {Model} from epoch {Epoch} to {Epochs}, {Batches} batches per epoch",
            Trainer.Model.GetType().Name, Trainer.Epoch + 1, Trainer.Epochs, Trainer.BatchesPerEpoch);

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) =>
        _logger.LogInformation("Epoch {Epoch}/{Epochs}: {Logs}", epoch + 1, Trainer.Epochs, ProgressBar.FormatLogs(logs));

    public override void OnTrainEnd(History history)
    {
        if (Trainer.StopTraining)
            _logger.LogWarning("Training stopped early after epoch {Epoch}", Trainer.Epoch);
        _logger.LogInformation("Training ended after {Epochs} epochs, {Steps} optimizer steps", history.Rows.Count, Trainer.GlobalStep);
    }
}
