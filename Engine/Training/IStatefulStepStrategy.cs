namespace Engine.Training;

/// <summary>
/// A step strategy with state of its own that a resumed run needs (a dynamic loss scaler's scale
/// and its count of clean steps, mixed precision's fp32 master weights):
/// <see cref="Callbacks.BackupAndRestore"/> saves and restores it with the checkpoint.
/// </summary>
public interface IStatefulStepStrategy : IStepStrategy
{
    /// <summary>The state as named tensors (the caller may dispose them after saving).</summary>
    Dictionary<string, Tensor> state_dict();

    /// <summary>Restores a state <see cref="state_dict"/> gave.</summary>
    void load_state_dict(IReadOnlyDictionary<string, Tensor> state);
}
