namespace Engine.Checkpoints;

/// <summary>
/// Checked loading of a state dict into any TorchSharp module (module.load_state_dict), shared
/// by the safetensors and PyTorch-pickle loaders. Unlike TorchSharp's own
/// <c>Module.load_state_dict</c>, which copies entry by entry and stops at the first problem, this
/// checks every name and shape first, reports all missing, unexpected and mis-shaped entries
/// together, and copies nothing unless every check passes.
/// </summary>
public static class StateDicts
{
    /// <summary>
    /// Copies <paramref name="state"/> into <paramref name="module"/>'s parameters and persistent
    /// buffers (its <c>state_dict()</c>), in place, on their device and in their dtype.
    /// Strict (the default): every name must match both ways. A shape mismatch is always an
    /// error. Nothing is copied unless everything checks.
    /// </summary>
    /// <param name="source">Where the state came from, for the error message (a path), or null.</param>
    /// <exception cref="StateDictException">Names or shapes do not match.</exception>
    public static void LoadInto(nn.Module module, IReadOnlyDictionary<string, Tensor> state, bool strict = true, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(state);
        // state_dict() hands out the module's own parameter and buffer tensors: never dispose them.
        var own = module.state_dict();
        var (missing, unexpected, mismatched) = Compare(own, state);
        if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
        {
            var from = source is null ? "" : $" from {source}";
            throw new StateDictException($"Error loading state dict into {module.GetType().Name}{from}: {Describe(missing, unexpected, mismatched)}. Nothing was copied.",
                missing, unexpected, mismatched);
        }
        using var noGrad = no_grad();
        foreach (var (name, target) in own)
            if (state.TryGetValue(name, out var value)) target.copy_(value);
    }

    /// <summary>What <paramref name="state"/> lacks, has extra, or holds in another shape (or
    /// disposed) against a module's own state dict, in the wording of the load errors.</summary>
    internal static (List<string> Missing, List<string> Unexpected, List<string> Mismatched) Compare(
        IReadOnlyDictionary<string, Tensor> own, IReadOnlyDictionary<string, Tensor> state)
    {
        var missing = own.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = new List<string>();
        foreach (var (name, target) in own)
        {
            if (!state.TryGetValue(name, out var value)) continue;
            if (value is null || value.IsInvalid)
                mismatched.Add($"{name}: the given tensor is null or disposed");
            else if (!target.shape.SequenceEqual(value.shape))
                mismatched.Add($"{name}: expected [{string.Join(", ", target.shape)}], got [{string.Join(", ", value.shape)}]");
        }
        return (missing, unexpected, mismatched);
    }

    /// <summary>"missing keys: …. unexpected keys: …. size mismatch: …", the parts that apply.</summary>
    internal static string Describe(List<string> missing, List<string> unexpected, List<string> mismatched)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add("missing keys: " + string.Join(", ", missing));
        if (unexpected.Count > 0) parts.Add("unexpected keys: " + string.Join(", ", unexpected));
        if (mismatched.Count > 0) parts.Add("size mismatch: " + string.Join("; ", mismatched));
        return string.Join(". ", parts);
    }
}
