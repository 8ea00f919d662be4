namespace Engine.Data;

/// <summary>
/// What a training loop draws from: one epoch of (input, target) batches per enumeration, and how
/// many batches an epoch has (for progress, ETA and per-batch schedules).
/// </summary>
public interface IBatchSource : IEnumerable<(Tensor Input, Tensor Target)>
{
    /// <summary>Batches in one epoch.</summary>
    long Batches { get; }
}
