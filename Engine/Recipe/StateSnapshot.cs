using TorchSharp.Modules;

namespace Engine.Recipe;

/// <summary>
/// An in-memory copy of a model's state (every parameter and buffer, each module's train/eval mode) and,
/// optionally, an optimizer's state (TorchSharp's <c>save_state_dict</c> bytes, which hold the
/// per-parameter state and every group's hyperparameters, learning rate included), so a check
/// or a learning-rate range test can train and then put everything back bit for bit.
/// Gradients are not kept: <see cref="Restore"/> zeroes them.
/// </summary>
public sealed class StateSnapshot : IDisposable
{
    readonly nn.Module _model;
    readonly List<(Tensor Target, Tensor Copy)> _tensors = new();
    readonly List<(nn.Module Module, bool Training)> _modes = new();
    readonly optim.Optimizer? _optimizer;
    readonly byte[]? _optimizerState;
    readonly double[]? _learningRates;

    StateSnapshot(nn.Module model, optim.Optimizer? optimizer)
    {
        _model = model;
        // Each module's own mode (a frozen BatchNorm may sit in eval inside a model in train),
        // parents before children since train(bool) recurses.
        _modes.Add((model, model.training));
        foreach (var (_, m) in model.named_modules()) if (!ReferenceEquals(m, model)) _modes.Add((m, m.training));
        // Wrappers made on the way (detach) die here; the copies are detached from the scope.
        using var scope = NewDisposeScope();
        using (no_grad())
            foreach (var (_, t) in model.state_dict())
                _tensors.Add((t, t.detach().clone().DetachFromDisposeScope()));
        if (optimizer is not null)
        {
            _optimizer = optimizer;
            var helper = optimizer as OptimizerHelper ?? throw new ArgumentException(
                $"StateSnapshot: {optimizer.GetType().Name} does not derive from TorchSharp's OptimizerHelper, whose save_state_dict/load_state_dict restore its state", nameof(optimizer));
            var stream = new MemoryStream();
            using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
                helper.save_state_dict(writer);
            _optimizerState = stream.ToArray();
            _learningRates = optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();
        }
    }

    /// <summary>Copies <paramref name="model"/>'s parameters, buffers and mode and, when given,
    /// <paramref name="optimizer"/>'s state (which must derive from OptimizerHelper).</summary>
    public static StateSnapshot Capture(nn.Module model, optim.Optimizer? optimizer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new StateSnapshot(model, optimizer);
    }

    /// <summary>The optimizer state's bytes as captured (for tests comparing states).</summary>
    public static byte[] OptimizerBytes(optim.Optimizer optimizer)
    {
        var helper = optimizer as OptimizerHelper ?? throw new ArgumentException($"StateSnapshot.OptimizerBytes: {optimizer.GetType().Name} is not an OptimizerHelper", nameof(optimizer));
        return Engine.Checkpoints.TrainingCheckpoint.OptimizerStateBytes(helper);
    }

    /// <summary>Puts the captured state back in place (same tensors, same optimizer object) and
    /// zeroes the model's gradients. Can be called more than once.</summary>
    public void Restore()
    {
        // zero_grad reads each p.grad, a new wrapper per parameter: let them die here.
        using var scope = NewDisposeScope();
        using (no_grad())
            foreach (var (target, copy) in _tensors) target.copy_(copy);
        foreach (var (module, training) in _modes) module.train(training);
        _model.zero_grad();
        if (_optimizer is not null)
        {
            using (var reader = new BinaryReader(new MemoryStream(_optimizerState!)))
                ((OptimizerHelper)_optimizer).load_state_dict(reader);
            int i = 0;
            foreach (var g in _optimizer.ParamGroups) g.LearningRate = _learningRates![i++];
        }
    }

    /// <summary>Frees the copies.</summary>
    public void Dispose()
    {
        foreach (var (_, copy) in _tensors) copy.Dispose();
        _tensors.Clear();
    }
}
