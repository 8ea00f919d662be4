namespace Engine.Training;

/// <summary>
/// A step strategy with state of its own that a resumed run needs (a dynamic loss scaler's scale
/// and its count of clean steps): <see cref="Callbacks.BackupAndRestore"/> saves and restores it
/// with the checkpoint.
/// </summary>
public interface IStatefulStepStrategy : IStepStrategy
{
    /// <summary>The state as a string (JSON).</summary>
    string SaveState();

    /// <summary>Restores a state <see cref="SaveState"/> gave.</summary>
    void LoadState(string state);
}
