namespace Engine.Data;

/// <summary>Functions over <see cref="IDataset"/>s (PyTorch's <c>torch.utils.data</c> module functions).</summary>
public static partial class Dataset
{
    /// <summary>
    /// Splits a data set into non-overlapping random subsets of the given sizes (PyTorch's
    /// <c>random_split(dataset, lengths, generator)</c>): <c>perm = randperm(N, generator)</c>, and
    /// subset k takes the next lengths[k] entries of perm. The same seed gives the same indices as
    /// PyTorch 1.13 (checked against scripts/fixtures/make_random_split_fixture.py) and leaves the
    /// generator in the same state. PyTorch's generator defaults to the global one; here it must be
    /// given, so a split is reproducible by construction.
    /// </summary>
    /// <exception cref="ArgumentException">The lengths do not sum to N, or one is negative.</exception>
    public static Subset[] RandomSplit(IDataset dataset, IReadOnlyList<long> lengths, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentNullException.ThrowIfNull(generator);
        if (lengths.Count == 0)
            throw new ArgumentException("RandomSplit: no lengths given", nameof(lengths));
        if (lengths.Any(l => l < 0))
            throw new ArgumentException($"RandomSplit: lengths [{string.Join(", ", lengths)}] hold a negative length", nameof(lengths));
        long total = lengths.Sum();
        if (total != dataset.Count)
            throw new ArgumentException($"RandomSplit: lengths [{string.Join(", ", lengths)}] sum to {total}, the data set has {dataset.Count} samples", nameof(lengths));
        if (generator.device.type != DeviceType.CPU)
            throw new ArgumentException($"RandomSplit: the generator is on {generator.device}; randperm draws on the CPU, give a CPU generator", nameof(generator));
        long[] perm;
        using (var p = randperm(total, ScalarType.Int64, CPU, generator: generator)) perm = p.data<long>().ToArray();
        var subsets = new Subset[lengths.Count];
        long offset = 0;
        for (int k = 0; k < lengths.Count; k++)
        {
            subsets[k] = new Subset(dataset, new ArraySegment<long>(perm, (int)offset, (int)lengths[k]));
            offset += lengths[k];
        }
        return subsets;
    }

    /// <summary>
    /// Splits by fractions of N (PyTorch 1.13's <c>random_split</c> with fractions): the fractions
    /// must each lie in [0, 1] and sum to 1 (within 1e-9, as Python's <c>math.isclose</c>);
    /// subset k gets floor(N·f_k) samples, and the N − Σ floor(N·f_k) left over go one each to
    /// subsets 0, 1, 2, ... in turn. Then as <see cref="RandomSplit(IDataset, IReadOnlyList{long}, Generator)"/>.
    /// PyTorch warns when a subset comes out empty; here that is allowed silently.
    /// </summary>
    /// <exception cref="ArgumentException">A fraction outside [0, 1], or fractions not summing to 1.</exception>
    public static Subset[] RandomSplit(IDataset dataset, IReadOnlyList<double> fractions, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(fractions);
        if (fractions.Count == 0)
            throw new ArgumentException("RandomSplit: no fractions given", nameof(fractions));
        foreach (var f in fractions)
            if (!(f >= 0 && f <= 1))
                throw new ArgumentException($"RandomSplit: fractions [{string.Join(", ", fractions)}]: {f} is not in [0, 1]", nameof(fractions));
        double sum = fractions.Sum();
        if (Math.Abs(sum - 1) > 1e-9 * Math.Max(1, Math.Abs(sum)))
            throw new ArgumentException($"RandomSplit: fractions [{string.Join(", ", fractions)}] sum to {sum}, not 1", nameof(fractions));
        long n = dataset.Count;
        var lengths = fractions.Select(f => (long)Math.Floor(n * f)).ToArray();
        long remainder = n - lengths.Sum();
        for (long i = 0; i < remainder; i++) lengths[i % lengths.Length]++;
        return RandomSplit(dataset, lengths, generator);
    }

    /// <summary>An index tensor's checks, before any native index_select could see it.</summary>
    internal static void CheckIndices(Tensor indices, string call)
    {
        if (indices.dtype != ScalarType.Int64 || indices.dim() != 1)
            throw new ArgumentException($"{call}.GetBatch: indices must be int64 [B], got {indices.dtype} [{string.Join(", ", indices.shape)}]", nameof(indices));
    }
}
