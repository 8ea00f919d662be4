namespace Engine.Data;

/// <summary>
/// A transform that draws from generators of its own (a seeded augmentation). The
/// <see cref="DataLoader"/> records their states before each batch it augments, so its
/// <see cref="DataLoader.State"/> can hand back the state belonging to the next batch the
/// consumer will see, even when workers have augmented batches ahead of it: a resumed run then
/// repeats the uninterrupted run's augmentations exactly.
/// </summary>
public interface IRandomTransform
{
    /// <summary>The generators the transform draws from, in a fixed order.</summary>
    IReadOnlyList<Generator> Generators { get; }
}
