namespace Engine.Checkpoints;

/// <summary>A state dict failed to load into a module: what was missing, unexpected or of the
/// wrong shape (PyTorch's load_state_dict RuntimeError, with the lists kept apart).</summary>
public sealed class StateDictException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
    IReadOnlyList<string> mismatched) : Exception(message)
{
    /// <summary>Names the module has and the state dict lacks.</summary>
    public IReadOnlyList<string> Missing { get; } = missing;
    /// <summary>Names the state dict has and the module lacks.</summary>
    public IReadOnlyList<string> Unexpected { get; } = unexpected;
    /// <summary>"name: expected [a, b], got [c, d]" entries.</summary>
    public IReadOnlyList<string> Mismatched { get; } = mismatched;
}
