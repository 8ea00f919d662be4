namespace Engine.Nn;

/// <summary>A state dict failed to load: what was missing, unexpected or of the wrong shape.</summary>
public sealed class StateDictException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
    IReadOnlyList<string> mismatched) : Exception(message)
{
    public IReadOnlyList<string> Missing { get; } = missing;
    public IReadOnlyList<string> Unexpected { get; } = unexpected;
    /// <summary>"name: expected [a, b], got [c, d]" entries.</summary>
    public IReadOnlyList<string> Mismatched { get; } = mismatched;
}

public abstract partial class Module
{
    /// <summary>
    /// Parameters and persistent buffers by dotted name, in registration order (module.state_dict()).
    /// The tensors are detached owners of the same storage: dispose them (or let a scope do it);
    /// the module keeps its own.
    /// </summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var state = new OrderedDictionary<string, Tensor>();
        foreach (var (name, p) in NamedParameters()) state[name] = p.Detach();
        foreach (var (prefix, m) in NamedModules())
        {
            m.Discover();
            foreach (var (name, b, persistent) in m._buffers)
                if (b is not null && persistent) state[prefix.Length == 0 ? name : prefix + "." + name] = b.Detach();
        }
        return state;
    }

    /// <summary>
    /// Copies values into this module's parameters and persistent buffers (module.load_state_dict).
    /// Strict (the default): any missing or unexpected name is an error. A shape mismatch is
    /// always an error. Nothing is copied unless everything checks.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        var own = new Dictionary<string, Tensor>();
        foreach (var (name, p) in NamedParameters()) own[name] = p;
        foreach (var (prefix, m) in NamedModules())
        {
            m.Discover();
            foreach (var (name, b, persistent) in m._buffers)
                if (b is not null && persistent) own[prefix.Length == 0 ? name : prefix + "." + name] = b;
        }
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = new List<string>();
        foreach (var (name, target) in own)
        {
            if (!state.TryGetValue(name, out var value)) continue;
            var want = target.Shape;
            var got = value.Shape;
            if (!want.SequenceEqual(got))
                mismatched.Add($"{name}: expected [{string.Join(", ", want)}], got [{string.Join(", ", got)}]");
        }
        if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add("missing keys: " + string.Join(", ", missing));
            if (unexpected.Count > 0) parts.Add("unexpected keys: " + string.Join(", ", unexpected));
            if (mismatched.Count > 0) parts.Add("size mismatch: " + string.Join("; ", mismatched));
            throw new StateDictException($"Error loading state dict into {TypeName}: {string.Join(". ", parts)}", missing, unexpected, mismatched);
        }
        using var noGrad = Torch.NoGrad();
        foreach (var (name, target) in own)
            if (state.TryGetValue(name, out var value)) target.Copy_(value);
    }
}
