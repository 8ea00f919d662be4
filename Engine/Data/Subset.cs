namespace Engine.Data;

/// <summary>
/// The samples of <see cref="Dataset"/> at <see cref="Indices"/>, in that order (PyTorch's
/// <c>torch.utils.data.Subset</c>): batch index i of the subset is sample Indices[i] of the data
/// set. What <see cref="Dataset.RandomSplit(IDataset, IReadOnlyList{long}, Generator)"/> returns.
/// </summary>
public sealed class Subset : IDataset
{
    readonly Tensor _indices;

    public IDataset Dataset { get; }
    public long Count { get; }

    /// <param name="indices">Sample indices into <paramref name="dataset"/>, each in [0, N); copied.</param>
    /// <exception cref="ArgumentOutOfRangeException">An index outside [0, N).</exception>
    public Subset(IDataset dataset, IReadOnlyList<long> indices)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(indices);
        for (int i = 0; i < indices.Count; i++)
            if (indices[i] < 0 || indices[i] >= dataset.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"Subset: index {i} is {indices[i]}, outside [0, {dataset.Count}) of the data set");
        Dataset = dataset;
        Count = indices.Count;
        _indices = tensor(indices.ToArray(), ScalarType.Int64).DetachFromDisposeScope();
    }

    /// <summary>The subset's sample indices into <see cref="Dataset"/>, a copy.</summary>
    public long[] Indices => _indices.data<long>().ToArray();

    public (Tensor Input, Tensor Target) GetBatch(Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        Engine.Data.Dataset.CheckIndices(indices, nameof(Subset));
        using var cpu = indices.device.type == DeviceType.CPU ? indices.alias() : indices.cpu();
        using var mapped = _indices.index_select(0, cpu);
        return Dataset.GetBatch(mapped);
    }
}
