namespace Engine.Optim;

/// <summary>An optimizer's memory for one parameter: its step count and named buffers
/// (exp_avg, exp_avg_sq, momentum_buffer...), named as PyTorch names them. A TorchSharp
/// <c>OptimizerState</c>, so <c>state_dict()</c>, <c>save_state_dict</c> and <c>to(device)</c> work.
/// Buffers are made on first use, as in PyTorch.</summary>
public sealed class ParamState : TorchSharp.Modules.OptimizerState, IDisposable
{
    readonly SortedList<string, Tensor> _buffers = new(StringComparer.Ordinal);

    public ParamState(Parameter parameter) : base(parameter) { }

    /// <summary>The number of updates this parameter has had.</summary>
    public long Step { get; set; }

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

    /// <summary>The buffer, or zeros shaped like the parameter on first use (kept outside any
    /// dispose scope). No delegate: the hot path of every step allocates nothing here.</summary>
    public Tensor Zeros(string name)
    {
        if (_buffers.TryGetValue(name, out var t)) return t;
        t = zeros_like(_parameter).DetachFromDisposeScope();
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

    /// <summary>Forgets every buffer and the step count.</summary>
    public void Clear()
    {
        foreach (var t in _buffers.Values) t.Dispose();
        _buffers.Clear();
        Step = 0;
    }

    public override void Initialize(TorchSharp.Modules.OptimizerOptions options) { }

    public override void to(Device device)
    {
        foreach (var name in _buffers.Keys.ToList())
        {
            var old = _buffers[name];
            if (old.device == device) continue;
            _buffers[name] = old.to(device).DetachFromDisposeScope();
            old.Dispose();
        }
    }

    public override void SaveStateDict(BinaryWriter writer)
    {
        writer.Write(Step);
        writer.Write(_buffers.Count);
        foreach (var (name, t) in _buffers)
        {
            writer.Write(name);
            writer.Write((int)t.dtype);
            writer.Write((int)t.dim());   // LoadStateDict reads an int32 (dim() is a long)
            foreach (var d in t.shape) writer.Write(d);
            using var cpu = t.cpu().contiguous();
            var bytes = cpu.bytes;
            writer.Write(bytes.Length);
            writer.Write(bytes);
        }
    }

    public override void LoadStateDict(BinaryReader reader)
    {
        long step = reader.ReadInt64();
        int count = reader.ReadInt32();
        if (step < 0 || count < 0 || count > 64) throw new InvalidDataException($"corrupt optimizer state (step {step}, {count} buffers)");
        var loaded = new List<(string, Tensor)>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                string name = reader.ReadString();
                var dtype = (ScalarType)reader.ReadInt32();
                int dims = reader.ReadInt32();
                if (dims < 0 || dims > 16) throw new InvalidDataException($"corrupt optimizer state buffer '{name}' ({dims} dims)");
                var shape = new long[dims];
                for (int d = 0; d < dims; d++) shape[d] = reader.ReadInt64();
                int length = reader.ReadInt32();
                var data = reader.ReadBytes(length);
                if (data.Length != length) throw new EndOfStreamException($"optimizer state buffer '{name}' is truncated");
                var t = empty(shape, dtype);
                if (t.bytes.Length != length) { t.Dispose(); throw new InvalidDataException($"optimizer state buffer '{name}': {length} bytes for shape [{string.Join(", ", shape)}] {dtype}"); }
                data.CopyTo(t.bytes);
                loaded.Add((name, t.to(_parameter.device).DetachFromDisposeScope()));
            }
        }
        catch
        {
            foreach (var (_, t) in loaded) t.Dispose();
            throw;
        }
        Clear();
        Step = step;
        foreach (var (name, t) in loaded) _buffers[name] = t;
    }

    /// <summary>Copies (never aliases) another state's step and buffers.</summary>
    public override void LoadStateDict(TorchSharp.Modules.OptimizerState source)
    {
        if (source is not ParamState other) throw new ArgumentException($"ParamState.LoadStateDict: got {source?.GetType().Name ?? "null"}");
        if (ReferenceEquals(other, this)) return;
        var copies = other._buffers.Select(kv => (kv.Key, kv.Value.detach().clone().to(_parameter.device).DetachFromDisposeScope())).ToList();
        Clear();
        Step = other.Step;
        foreach (var (name, t) in copies) _buffers[name] = t;
    }

    public override bool ApproximatelyEquals(TorchSharp.Modules.OptimizerState other) =>
        other is ParamState s && s.Step == Step && s._buffers.Count == _buffers.Count &&
        _buffers.All(kv => s._buffers.TryGetValue(kv.Key, out var t) && t.allclose(kv.Value));

    public void Dispose()
    {
        foreach (var t in _buffers.Values) t.Dispose();
        _buffers.Clear();
    }
}
