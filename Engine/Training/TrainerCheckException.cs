namespace Engine.Training;

/// <summary>The dry run (or the checks before it) found data or a model the run cannot train on:
/// the message names the shapes, values and what was expected. Raised before any epoch runs and
/// before any callback wrote a file.</summary>
public sealed class TrainerCheckException(string message, Exception? inner = null) : Exception(message, inner);
