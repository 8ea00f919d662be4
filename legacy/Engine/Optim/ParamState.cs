namespace Engine.Optim;

/// <summary>An optimizer's memory for one parameter: its step count and named buffers
/// (exp_avg, exp_avg_sq, momentum_buffer...), named as PyTorch names them.</summary>
public sealed class ParamState : IDisposable
{
    public long Step { get; set; }
    readonly Dictionary<string, Tensor> _buffers = new();

    public IReadOnlyDictionary<string, Tensor> Buffers => _buffers;

    public bool TryGet(string name, out Tensor buffer) => _buffers.TryGetValue(name, out buffer!);

    public Tensor this[string name]
    {
        get => _buffers.TryGetValue(name, out var t) ? t : throw new KeyNotFoundException($"no optimizer state '{name}'");
        set
        {
            value.DetachFromDisposeScope();
            if (_buffers.TryGetValue(name, out var old) && !ReferenceEquals(old, value)) old.Dispose();
            _buffers[name] = value;
        }
    }

    /// <summary>The buffer, or a new one of zeros shaped like <paramref name="like"/> on first use.
    /// No delegate: the hot path of every step makes no managed allocation here.</summary>
    public Tensor Zeros(string name, Tensor like)
    {
        if (_buffers.TryGetValue(name, out var t)) return t;
        t = Torch.ZerosLike(like).DetachFromDisposeScope();
        _buffers[name] = t;
        return t;
    }

    /// <summary>The buffer, created by <paramref name="create"/> on first use (outside any scope).</summary>
    public Tensor GetOrCreate(string name, Func<Tensor> create)
    {
        if (_buffers.TryGetValue(name, out var t)) return t;
        t = create().DetachFromDisposeScope();
        _buffers[name] = t;
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _buffers.Values) t.Dispose();
        _buffers.Clear();
    }
}
