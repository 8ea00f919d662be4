using System.Globalization;

namespace Engine.Averaging;

/// <summary>
/// The common frame of <see cref="ExponentialMovingAverage"/> and <see cref="StochasticWeightAveraging"/>:
/// an averaged copy of a model's parameters (and, optionally, floating buffers), kept beside the
/// model instead of in a deep copy of it (TorchSharp has no <c>copy.deepcopy</c> of a module).
/// <list type="bullet">
/// <item><see cref="Update"/>(model): fold the model's current weights into the average; call it
/// after <c>optimizer.step()</c> (EMA: every step; SWA: every epoch or every step of the SWA phase).
/// The subclass gives the rule; everything runs in no_grad, one in-place op (or a few) per tensor,
/// no host sync.</item>
/// <item><see cref="Apply"/>(model) / <see cref="Restore"/>(model): swap the averaged weights into
/// the model for evaluation and back (every parameter and buffer is saved first, so
/// <c>StochasticWeightAveraging.UpdateBatchNorm</c> between the two
/// leaves the trained model untouched).</item>
/// <item><see cref="CopyTo"/>(model): write the averaged weights into a model for good (the end of
/// training, or a second instance of the architecture to evaluate side by side).</item>
/// <item><see cref="StateDict"/> / <see cref="LoadStateDict"/>: the averages and the update count as
/// named tensors, for a checkpoint's tensors (e.g. <c>TrainingCheckpoint.Tensors</c>).</item>
/// </list>
/// The tracked tensors are the model's named parameters (all of them, trainable or not, as
/// PyTorch's <c>AveragedModel</c>) and, with <c>useBuffers</c>, its named buffers; buffers that are
/// not floating point (BatchNorm's <c>num_batches_tracked</c>) are copied, not averaged (timm's
/// ModelEmaV3 rule). Any model with the same names and shapes can be updated, applied or copied to.
/// </summary>
public abstract class WeightAverage : IDisposable
{
    readonly string[] _names;
    readonly Tensor[] _averages;
    Dictionary<string, Tensor>? _saved;
    bool _disposed;

    /// <summary>Starts the average at a copy of <paramref name="model"/>'s weights (as PyTorch's
    /// <c>AveragedModel</c> deep-copies the model).</summary>
    private protected WeightAverage(string name, nn.Module model, bool useBuffers)
    {
        Name = name;
        ArgumentNullException.ThrowIfNull(model, nameof(model));
        UseBuffers = useBuffers;
        var tracked = Tracked(model, useBuffers);
        if (tracked.Count == 0)
            throw new ArgumentException($"{name}: {model.GetType().Name} has no parameters{(useBuffers ? " or buffers" : "")} to average", nameof(model));
        _names = tracked.Select(t => t.Name).ToArray();
        using var scope = NewDisposeScope(); // the detach() views die here; the copies are kept
        using (no_grad())
            _averages = tracked.Select(t => t.Tensor.detach().clone().DetachFromDisposeScope()).ToArray();
    }

    /// <summary>The name used in error messages.</summary>
    protected string Name { get; }

    /// <summary>Whether buffers are tracked as well as parameters.</summary>
    public bool UseBuffers { get; }

    /// <summary>Updates folded in so far (PyTorch's <c>n_averaged</c>; TensorFlow's num_updates).</summary>
    public long Updates { get; private set; }

    /// <summary>True between <see cref="Apply"/> and <see cref="Restore"/>.</summary>
    public bool IsApplied => _saved is not null;

    /// <summary>The tracked names, in the model's order (parameters, then buffers).</summary>
    public IReadOnlyList<string> Names => _names;

    /// <summary>The averaged tensor of a tracked parameter or buffer (owned by this object; read, do not keep).</summary>
    public Tensor this[string name]
    {
        get
        {
            int i = Array.IndexOf(_names, name);
            if (i < 0) throw new KeyNotFoundException($"{Name}: '{name}' is not tracked; tracked: {string.Join(", ", _names)}");
            return _averages[i];
        }
    }

    /// <summary>
    /// Folds <paramref name="model"/>'s current weights into the average (after the optimizer's
    /// step). Runs in no_grad and a dispose scope; no host synchronisation.
    /// </summary>
    public void Update(nn.Module model)
    {
        ThrowIfDisposed();
        if (IsApplied)
            throw new InvalidOperationException($"{Name}.Update: the average is applied to a model; Restore it first (updating the average with itself would be a no-op at best)");
        var current = Resolve(model, nameof(Update));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        BeginUpdate(Updates);
        for (int i = 0; i < _averages.Length; i++)
        {
            var source = current[i].detach();
            if (!source.is_floating_point()) _averages[i].copy_(source);
            else UpdateOne(_averages[i], source, Updates);
        }
        Updates++;
    }

    /// <summary>Called once per <see cref="Update"/>, before the tensors, inside its dispose scope
    /// and no_grad (EMA computes its decay here).</summary>
    private protected virtual void BeginUpdate(long updatesBefore) { }

    /// <summary>
    /// One tensor's update: <paramref name="average"/> ← rule(average, <paramref name="value"/>),
    /// in place, with <paramref name="updatesBefore"/> updates already folded in. Called inside no_grad.
    /// </summary>
    private protected abstract void UpdateOne(Tensor average, Tensor value, long updatesBefore);

    /// <summary>
    /// Swaps the averaged weights into <paramref name="model"/> for evaluation: saves every
    /// parameter and buffer of the model, then copies the averages in. <see cref="Restore"/> puts the
    /// saved ones back.
    /// </summary>
    public void Apply(nn.Module model)
    {
        ThrowIfDisposed();
        if (IsApplied) throw new InvalidOperationException($"{Name}.Apply: already applied; call Restore first");
        var current = Resolve(model, nameof(Apply));
        using var scope = NewDisposeScope();
        var saved = new Dictionary<string, Tensor>();
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters()) saved["p:" + name] = p.detach().clone().DetachFromDisposeScope();
            foreach (var (name, b) in model.named_buffers()) saved["b:" + name] = b.detach().clone().DetachFromDisposeScope();
            for (int i = 0; i < _averages.Length; i++) current[i].detach().copy_(_averages[i]);
        }
        _saved = saved;
        _appliedTo = model;
    }
    nn.Module? _appliedTo;

    /// <summary>Puts back the weights <see cref="Apply"/> saved (parameters and buffers).</summary>
    public void Restore(nn.Module model)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(model, nameof(model));
        if (_saved is null) throw new InvalidOperationException($"{Name}.Restore: nothing to restore; call Apply first");
        if (!ReferenceEquals(model, _appliedTo))
            throw new ArgumentException($"{Name}.Restore: the average was applied to another model instance ({_appliedTo!.GetType().Name})", nameof(model));
        using (NewDisposeScope())
        using (no_grad())
        {
            foreach (var (name, p) in model.named_parameters()) p.detach().copy_(_saved["p:" + name]);
            foreach (var (name, b) in model.named_buffers()) b.detach().copy_(_saved["b:" + name]);
        }
        foreach (var t in _saved.Values) t.Dispose();
        _saved = null;
        _appliedTo = null;
    }

    /// <summary>Applies, runs <paramref name="body"/> (evaluation), restores, even if it throws.</summary>
    public T WithAveragedWeights<T>(nn.Module model, Func<T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        Apply(model);
        try { return body(); }
        finally { Restore(model); }
    }

    /// <summary>Writes the averaged weights into <paramref name="model"/> for good (no backup).</summary>
    public void CopyTo(nn.Module model)
    {
        ThrowIfDisposed();
        var current = Resolve(model, nameof(CopyTo));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < _averages.Length; i++) current[i].detach().copy_(_averages[i]);
    }

    /// <summary>Key of the update count in <see cref="StateDict"/>.</summary>
    public const string UpdatesKey = "n_averaged";

    /// <summary>
    /// The state as named tensors: <c>"average.&lt;name&gt;"</c> for every tracked tensor (copies)
    /// and <see cref="UpdatesKey"/> (int64 scalar). The caller owns the tensors.
    /// </summary>
    public Dictionary<string, Tensor> StateDict()
    {
        ThrowIfDisposed();
        var state = new Dictionary<string, Tensor>();
        using (no_grad())
            for (int i = 0; i < _names.Length; i++) state["average." + _names[i]] = _averages[i].detach().clone();
        state[UpdatesKey] = tensor(Updates, ScalarType.Int64);
        return state;
    }

    /// <summary>Loads a <see cref="StateDict"/>: every tracked name with the same shape and dtype, and
    /// the update count; checks everything before changing anything.</summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(state, nameof(state));
        if (!state.TryGetValue(UpdatesKey, out var count) || count.numel() != 1 || count.dtype != ScalarType.Int64)
            throw new ArgumentException($"{Name}.LoadStateDict: the state needs '{UpdatesKey}', an int64 scalar", nameof(state));
        var expected = new HashSet<string>(_names.Select(n => "average." + n)) { UpdatesKey };
        var extra = state.Keys.Where(k => !expected.Contains(k)).ToArray();
        if (extra.Length > 0)
            throw new ArgumentException($"{Name}.LoadStateDict: unexpected entries {string.Join(", ", extra)} (another model, or useBuffers differs?)", nameof(state));
        for (int i = 0; i < _names.Length; i++)
        {
            if (!state.TryGetValue("average." + _names[i], out var t))
                throw new ArgumentException($"{Name}.LoadStateDict: the state lacks 'average.{_names[i]}'", nameof(state));
            if (!t.shape.SequenceEqual(_averages[i].shape) || t.dtype != _averages[i].dtype)
                throw new ArgumentException($"{Name}.LoadStateDict: 'average.{_names[i]}' is {t.dtype} [{string.Join(", ", t.shape)}], expected {_averages[i].dtype} [{string.Join(", ", _averages[i].shape)}]", nameof(state));
        }
        long updates = count.item<long>();
        if (updates < 0) throw new ArgumentException($"{Name}.LoadStateDict: '{UpdatesKey}' must be >= 0, got {updates}", nameof(state));
        using (no_grad())
            for (int i = 0; i < _names.Length; i++) _averages[i].copy_(state["average." + _names[i]]);
        Updates = updates;
    }

    /// <summary>The model's tensors in tracked order, after checking names and shapes.</summary>
    Tensor[] Resolve(nn.Module model, string call)
    {
        ArgumentNullException.ThrowIfNull(model, nameof(model));
        var tracked = Tracked(model, UseBuffers);
        if (tracked.Count != _names.Length || tracked.Where((t, i) => t.Name != _names[i]).Any())
        {
            var missing = _names.Except(tracked.Select(t => t.Name)).Take(5);
            var extra = tracked.Select(t => t.Name).Except(_names).Take(5);
            throw new ArgumentException(
                $"{Name}.{call}: {model.GetType().Name} is not the architecture this average was built from: expected {_names.Length} tensors, got {tracked.Count}; missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}]", nameof(model));
        }
        var result = new Tensor[_names.Length];
        for (int i = 0; i < result.Length; i++)
        {
            var t = tracked[i].Tensor;
            if (!t.shape.SequenceEqual(_averages[i].shape) || t.dtype != _averages[i].dtype || t.device_type != _averages[i].device_type || t.device_index != _averages[i].device_index)
                throw new ArgumentException(
                    $"{Name}.{call}: '{_names[i]}' is {t.dtype} [{string.Join(", ", t.shape)}] on {t.device}, the average holds {_averages[i].dtype} [{string.Join(", ", _averages[i].shape)}] on {_averages[i].device}", nameof(model));
            result[i] = t;
        }
        return result;
    }

    static List<(string Name, Tensor Tensor, bool IsBuffer)> Tracked(nn.Module model, bool useBuffers)
    {
        var list = model.named_parameters().Select(p => (p.name, (Tensor)p.parameter, false)).ToList();
        if (useBuffers) list.AddRange(model.named_buffers().Select(b => (b.name, b.buffer, true)));
        return list;
    }

    private protected static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Frees the averages (and a pending Apply's saved weights).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var t in _averages) t.Dispose();
        if (_saved is not null) foreach (var t in _saved.Values) t.Dispose();
        GC.SuppressFinalize(this);
    }
}
