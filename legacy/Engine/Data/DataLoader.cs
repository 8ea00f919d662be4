namespace Engine.Data;

/// <summary>
/// Mini-batches over in-memory tensors that share their first dimension (a TensorDataset with a
/// DataLoader): shuffled each epoch with the given generator, the last partial batch kept unless
/// dropLast. Batch size 1 is stochastic gradient descent, the whole set full-batch.
/// Each batch's tensors belong to the caller (or the current DisposeScope).
/// </summary>
public sealed class DataLoader
{
    readonly Tensor[] _tensors;
    readonly Generator? _generator;

    public long BatchSize { get; }
    public bool Shuffle { get; }
    public bool DropLast { get; }
    public long Count { get; }

    public DataLoader(Tensor[] tensors, long batchSize, bool shuffle = true, bool dropLast = false, Generator? generator = null)
    {
        if (tensors.Length == 0) throw new ArgumentException("DataLoader needs at least one tensor");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be positive");
        Count = tensors[0].Size(0);
        foreach (var t in tensors)
            if (t.Size(0) != Count)
                throw new ArgumentException($"DataLoader: tensors differ in their first dimension ({Count} and {t.Size(0)})");
        _tensors = tensors;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        _generator = generator;
    }

    /// <summary>Batches per epoch.</summary>
    public long Batches => DropLast ? Count / BatchSize : (Count + BatchSize - 1) / BatchSize;

    /// <summary>One epoch of batches.</summary>
    public IEnumerable<Tensor[]> Epoch()
    {
        Tensor? order = null;
        if (Shuffle)
        {
            using var perm = Torch.Randperm(Count, device: Device.CPU, generator: _generator);
            order = perm.To(_tensors[0].Device).DetachFromDisposeScope();
        }
        try
        {
            for (long b = 0; b < Batches; b++)
            {
                long start = b * BatchSize, length = Math.Min(BatchSize, Count - start);
                var batch = new Tensor[_tensors.Length];
                if (order is null)
                {
                    for (int i = 0; i < batch.Length; i++) batch[i] = _tensors[i].Narrow(0, start, length);
                }
                else
                {
                    using var index = order.Narrow(0, start, length);
                    for (int i = 0; i < batch.Length; i++) batch[i] = _tensors[i].IndexSelect(0, index);
                }
                yield return batch;
            }
        }
        finally
        {
            order?.Dispose();
        }
    }
}
