namespace Engine.Data;

/// <summary>
/// Shards each epoch's seeded order of N samples across R replicas (data-parallel ranks), so that
/// every rank sees a different, equally long part of the same epoch: PyTorch's
/// <c>torch.utils.data.DistributedSampler(dataset, num_replicas=R, rank=r, shuffle, seed, drop_last)</c>,
/// checked index for index against Python PyTorch 1.13 (torch/utils/data/distributed.py;
/// scripts/fixtures/make_distributed_sampler_fixture.py):
/// <code>
/// num_samples = ceil((N - R) / R)  if drop_last and N % R != 0   (= floor(N / R))
///               ceil(N / R)        otherwise
/// total_size  = num_samples * R
/// order       = randperm(N, generator = manual_seed(seed + epoch))   (0, 1, ..., N-1 when not shuffled)
/// padded      = order repeated from its start up to total_size        (drop_last: order[:total_size])
/// indices     = padded[rank : total_size : R]                         (num_samples of them)
/// </code>
/// Without drop_last the ranks together cover every sample each epoch, a few (total_size − N)
/// twice; with it, the N − total_size samples at the end of the epoch's order are skipped (they
/// change from epoch to epoch when shuffled). All ranks must use the same seed: the order is the
/// same on every rank and the strides interleave.
/// <para>
/// Given to a <see cref="DataLoader"/> as <see cref="DataLoaderOptions.Sampler"/>, the loader
/// passes its own epoch counter to <see cref="Indices"/>, so there is no <c>set_epoch</c> to
/// call (with PyTorch's sampler, forgetting <c>sampler.set_epoch(epoch)</c> repeats epoch 0's
/// order forever), and a restored loader resumes the same order mid-epoch.
/// </para>
/// </summary>
public sealed class DistributedSampler : IIndexSampler
{
    /// <summary>This rank's shard of a data set of <paramref name="length"/> samples, for the ranks of
    /// <paramref name="group"/> (R = its world size, rank = its rank).</summary>
    public DistributedSampler(long length, Distributed.ProcessGroup group, bool shuffle = true, long seed = 0, bool dropLast = false)
        : this(length, (group ?? throw new ArgumentNullException(nameof(group), "DistributedSampler: group is null")).WorldSize, group.Rank, shuffle, seed, dropLast) { }

    /// <param name="length">The data set's size N.</param>
    /// <param name="numReplicas">R, the number of ranks sharing the data set (the world size).</param>
    /// <param name="rank">This rank, in [0, R).</param>
    /// <param name="shuffle">Draw a new order every epoch (else 0, 1, ..., N-1 every epoch).</param>
    /// <param name="seed">The same on every rank; epoch e's order is seeded with seed + e
    /// (wrapped to uint64, as PyTorch's <c>manual_seed</c> does with a negative value).</param>
    /// <param name="dropLast">Cut the order to a multiple of R instead of padding it.</param>
    /// <exception cref="ArgumentOutOfRangeException">N &lt; 1, R &lt; 1, or a rank outside [0, R).</exception>
    public DistributedSampler(long length, int numReplicas, int rank, bool shuffle = true, long seed = 0, bool dropLast = false)
    {
        if (length < 1)
            throw new ArgumentOutOfRangeException(nameof(length), length, "DistributedSampler: the data set holds no samples; it needs at least one");
        if (numReplicas < 1)
            throw new ArgumentOutOfRangeException(nameof(numReplicas), numReplicas, "DistributedSampler: the number of replicas (ranks) must be at least 1");
        if (rank < 0 || rank >= numReplicas)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"DistributedSampler: invalid rank {rank}; with {numReplicas} replicas the rank must be in [0, {numReplicas - 1}]");
        DatasetLength = length;
        NumReplicas = numReplicas;
        Rank = rank;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        // ceil((N - R) / R) is floor(N / R) when R does not divide N: N = qR + m, 0 < m < R.
        NumSamples = dropLast && length % numReplicas != 0 ? length / numReplicas : (length + numReplicas - 1) / numReplicas;
        TotalSize = NumSamples * numReplicas;
    }

    /// <summary>The data set's size N.</summary>
    public long DatasetLength { get; }
    /// <summary>R, the ranks sharing the data set.</summary>
    public int NumReplicas { get; }
    /// <summary>This rank, in [0, R).</summary>
    public int Rank { get; }
    public bool Shuffle { get; }
    public long Seed { get; }
    public bool DropLast { get; }
    /// <summary>Indices per rank and epoch (PyTorch's <c>num_samples</c>, <c>len(sampler)</c>):
    /// ceil(N / R), or floor(N / R) with <see cref="DropLast"/> (0 when N &lt; R).</summary>
    public long NumSamples { get; }
    /// <summary>Indices of all ranks together per epoch: <see cref="NumSamples"/> × R.</summary>
    public long TotalSize { get; }
    /// <summary><see cref="NumSamples"/>: what a <see cref="DataLoader"/> draws per epoch.</summary>
    public long Length => NumSamples;

    /// <summary>This rank's indices for epoch <paramref name="epoch"/> (PyTorch:
    /// <c>set_epoch(epoch)</c>, then <c>list(sampler)</c>): int64 [<see cref="NumSamples"/>] on the
    /// CPU, made in the caller's dispose scope.</summary>
    public Tensor Indices(long epoch)
    {
        using var scope = NewDisposeScope();
        Tensor order;
        if (Shuffle)
        {
            // Python's seed + epoch, then manual_seed's uint64 wrap; TorchSharp's Generator(seed) is manual_seed.
            using var generator = new Generator(unchecked((ulong)Seed + (ulong)epoch));
            order = randperm(DatasetLength, ScalarType.Int64, CPU, generator: generator);
        }
        else
            order = arange(DatasetLength, ScalarType.Int64);
        // Rank r takes positions r, r + R, ... of the padded order; position i of the padding
        // (the order repeated from its start) is order[i mod N]. With drop_last every position is < N.
        var positions = arange(NumSamples, ScalarType.Int64).mul_(NumReplicas).add_(Rank).remainder_(DatasetLength);
        return order.index_select(0, positions).MoveToOuterDisposeScope();
    }
}
