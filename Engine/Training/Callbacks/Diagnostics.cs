using Engine.Recipe;

namespace Engine.Training.Callbacks;

/// <summary>
/// The recipe's training diagnostics (<see cref="TrainingDiagnostics"/>: per-layer gradient and
/// weight norms, update-to-weight ratios, dead-ReLU fractions, activation statistics, vanishing
/// or exploding gradients, the first layer producing a NaN) during Fit, every
/// <c>DiagnosticsOptions.Interval</c> optimizer steps. Measured values go to the TensorBoard
/// callback's writer (when given) under "diagnostics/…" and to <see cref="Last"/>; warnings go to
/// the diagnostics' ILogger. Gradient norms are those after clipping (the Trainer has no hook
/// between backward and clipping).
/// </summary>
public sealed class Diagnostics : Callback, IDisposable
{
    readonly DiagnosticsOptions? _options;
    readonly Microsoft.Extensions.Logging.ILogger? _logger;
    readonly TensorBoard? _tensorBoard;
    TrainingDiagnostics? _diagnostics;

    public Diagnostics(DiagnosticsOptions? options = null, Microsoft.Extensions.Logging.ILogger? logger = null, TensorBoard? tensorBoard = null)
    {
        _options = options;
        _logger = logger;
        _tensorBoard = tensorBoard;
    }

    /// <summary>The scalars of the last measured step (empty before the first).</summary>
    public IReadOnlyDictionary<string, double> Last { get; private set; } = new Dictionary<string, double>();

    /// <summary>The diagnostics object (hooks installed at train begin).</summary>
    public TrainingDiagnostics? Measures => _diagnostics;

    public override void OnTrainBegin() => _diagnostics ??= new TrainingDiagnostics(Trainer.Model, _options, _logger);

    public override void OnBatchBegin(long batch)
    {
        if (!Trainer.InAccumulation) _diagnostics!.BeginStep(Trainer.GlobalStep);
    }

    public override void OnBatchEnd(long batch, Tensor loss)
    {
        if (Trainer.InAccumulation) return;
        var values = _diagnostics!.AfterStep();
        if (values is null) return;
        Last = values;
        if (_tensorBoard?.Writer is { } writer)
            foreach (var (name, value) in values)
                if (double.IsFinite(value)) writer.add_scalar("diagnostics/" + name, (float)value, checked((int)Trainer.GlobalStep));
    }

    public override void OnTrainEnd(History history) => Dispose();

    public void Dispose()
    {
        _diagnostics?.Dispose();
        _diagnostics = null;
    }
}
