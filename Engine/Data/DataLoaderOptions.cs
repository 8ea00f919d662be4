namespace Engine.Data;

/// <summary>
/// What a <see cref="DataLoader"/> does to each batch after drawing it, and where the work runs.
/// Names follow PyTorch's <c>DataLoader</c> arguments where one exists.
/// </summary>
public sealed record DataLoaderOptions
{
    /// <summary>Applied to every batch, training or not (e.g. <see cref="Normalize"/>, <see cref="StandardScaler"/>),
    /// after <see cref="Augmentation"/>.</summary>
    public IBatchTransform? Transform { get; init; }

    /// <summary>Applied only while <see cref="DataLoader.Training"/> (e.g.
    /// <c>BatchTransform.Input(new ImageAugmentation(options, seed))</c>), before <see cref="Transform"/>.
    /// Calls run in batch order, one at a time, with or without workers, so a transform with its
    /// own seeded generator gives the same batches either way.</summary>
    public IBatchTransform? Augmentation { get; init; }

    /// <summary>The device batches are moved to before the transforms run; null: the data's device.
    /// Keeping the data on the CPU and the batches on CUDA is PyTorch's usual setup.</summary>
    public Device? Device { get; init; }

    /// <summary>PyTorch's <c>pin_memory</c>: when <see cref="Device"/> is CUDA (and CUDA is available), CPU
    /// batches are copied into page-locked memory and sent with <c>non_blocking</c>, so the copy
    /// overlaps compute. Ignored otherwise.</summary>
    public bool PinMemory { get; init; } = true;

    /// <summary>PyTorch's <c>num_workers</c>: 0 prepares each batch on the consumer's thread when it is
    /// drawn; W ≥ 1 starts W background threads (not processes, unlike PyTorch) that prepare the
    /// next batches while the training step runs.</summary>
    public int Workers { get; init; }

    /// <summary>PyTorch's <c>prefetch_factor</c>: batches prepared ahead per worker (default 2), so at
    /// most Workers × PrefetchFactor batches wait in memory.</summary>
    public int PrefetchFactor { get; init; } = 2;

    /// <summary>PyTorch's <c>sampler</c>: which samples each epoch draws, in what order (e.g. a
    /// <see cref="DistributedSampler"/> for this rank's shard). The loader's epoch e (0-based,
    /// counting from its construction or its restored state) takes <c>Sampler.Indices(e)</c>, so the
    /// epoch number reaches the sampler without a <c>set_epoch</c> call; an epoch has
    /// <c>Sampler.Length</c> samples. Mutually exclusive with the loader's <c>shuffle</c> (give
    /// <c>shuffle: false</c>); null: the loader's own order (randperm or 0..N-1).</summary>
    public IIndexSampler? Sampler { get; init; }
}
