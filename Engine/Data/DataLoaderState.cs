namespace Engine.Data;

/// <summary>
/// Where a <see cref="DataLoader"/> stands, for exact resume (PyTorch's DataLoader has no such
/// state; torchdata's StatefulDataLoader is the nearest thing). <see cref="Epoch"/> counts the
/// epochs started before the current one (0-based), <see cref="Batch"/> the batches of it already
/// handed out, and <see cref="GeneratorState"/> is the shuffling generator's state at the start of
/// that epoch (<c>Generator.get_state()</c>'s bytes; null without a generator). Restoring it
/// (<see cref="DataLoader.Restore"/>) replays the epoch's draws and skips the batches already seen.
/// Between epochs Batch is 0 and GeneratorState the generator's current state. A state read after
/// an epoch's last batch, inside its loop, has Batch = batches: the restored loader's next
/// enumeration yields nothing and ends that epoch, as the uninterrupted loop would have.
/// With a <see cref="DataLoaderOptions.Sampler"/> the epoch's order is the sampler's
/// <c>Indices(Epoch)</c>, recomputed on restore: no generator state is involved.
/// <see cref="AugmentationStates"/> holds the states of the augmentation's own generators (an
/// <see cref="IRandomTransform"/>) as they were before the next batch the consumer sees was
/// augmented, whether or not workers had augmented it already.
/// </summary>
public sealed record DataLoaderState(long Epoch, long Batch, byte[]? GeneratorState)
{
    /// <summary>One state per generator of the augmentation (empty without a random augmentation).</summary>
    public byte[][] AugmentationStates { get; init; } = [];
}
