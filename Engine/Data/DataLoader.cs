using System.Collections;

namespace Engine.Data;

/// <summary>
/// Mini-batches of (input, target) over two in-memory tensors that share their first dimension
/// (PyTorch's DataLoader over a TensorDataset). Each enumeration is one epoch:
/// <code>
/// for epoch in 1..E:
///     order = randperm(N, generator)      (0, 1, ..., N-1 when not shuffled)
///     for b in 0..batches-1:
///         idx = order[b*B : (b+1)*B]      (the last batch is smaller, or dropped with dropLast)
///         yield (inputs[idx], targets[idx])
/// </code>
/// Batch size 1 is stochastic gradient descent, batch size N full-batch gradient descent.
/// <para>
/// Shuffling reshuffles every epoch from one seeded <see cref="Generator"/>: the epochs differ
/// from each other, and the same seed gives the same sequence of orders. With a generator the
/// orders are exactly those of PyTorch's <c>DataLoader(shuffle=True, generator=g)</c> (checked
/// against Python PyTorch 1.13): per epoch PyTorch draws one int64 base seed from g, then its
/// RandomSampler takes <c>torch.randperm(N, generator=g)</c> and, when the epoch runs to its end,
/// a second randperm for the N % N remainder; this loader makes the same draws. Without a
/// generator the order is <c>randperm</c> from torch's global generator (<c>torch.manual_seed</c>
/// reproduces it; PyTorch's generator-less loader seeds a fresh generator from an unbounded int64
/// <c>random_()</c> that TorchSharp cannot express, so those orders differ from Python's).
/// TorchSharp's own <c>torch.utils.data.DataLoader(seed: s)</c> repeats one order every epoch,
/// because it reseeds a <c>System.Random</c> each time (see DataLoaderTests).
/// </para>
/// <para>
/// Batches are <c>index_select</c>s on the data's device (one device-side permutation per epoch,
/// no per-sample host work); unshuffled batches are <c>narrow</c> views, so do not modify them in
/// place. The batch tensors are made in the dispose scope current when the batch is drawn, and,
/// with <c>disposeBatches</c> (the default, as TorchSharp's DataLoader), the loader also disposes
/// each batch when the next is drawn or the epoch ends, so a loop body's own
/// <c>NewDisposeScope()</c> is enough to run without leaks: <c>clone()</c> a batch to keep it.
/// Disposing a batch never touches the loader's data.
/// </para>
/// </summary>
public sealed class DataLoader : IBatchSource
{
    readonly Tensor _inputs, _targets;
    readonly Generator? _generator;

    /// <summary>Samples per batch (the last one may hold fewer unless <see cref="DropLast"/>).</summary>
    public long BatchSize { get; }
    public bool Shuffle { get; }
    /// <summary>Drop the last, smaller batch (when N is not a multiple of the batch size).</summary>
    public bool DropLast { get; }
    /// <summary>The loader disposes each batch's tensors when the next batch is drawn.</summary>
    public bool DisposeBatches { get; }
    /// <summary>Number of samples, N.</summary>
    public long Count { get; }

    /// <param name="inputs">[N, ...] samples; the loader keeps a reference and never disposes it.</param>
    /// <param name="targets">[N, ...] targets on the same device.</param>
    /// <param name="generator">A CPU generator (<c>new Generator(seed)</c>) the epochs' orders are drawn from; null: torch's global generator.</param>
    public DataLoader(Tensor inputs, Tensor targets, long batchSize, bool shuffle = true, bool dropLast = false,
        Generator? generator = null, bool disposeBatches = true)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "DataLoader: the batch size must be positive");
        if (inputs.dim() == 0 || targets.dim() == 0)
            throw new ArgumentException($"DataLoader: inputs [{string.Join(", ", inputs.shape)}] and targets [{string.Join(", ", targets.shape)}] need a first (sample) dimension");
        if (inputs.shape[0] != targets.shape[0])
            throw new ArgumentException($"DataLoader: inputs [{string.Join(", ", inputs.shape)}] and targets [{string.Join(", ", targets.shape)}] differ in their first (sample) dimension");
        if (inputs.device.type != targets.device.type || inputs.device.index != targets.device.index)
            throw new ArgumentException($"DataLoader: inputs are on {inputs.device}, targets on {targets.device}; put both on one device");
        if (generator is not null && generator.device.type != DeviceType.CPU)
            throw new ArgumentException($"DataLoader: the generator is on {generator.device}; randperm draws on the CPU, give a CPU generator", nameof(generator));
        _inputs = inputs;
        _targets = targets;
        _generator = generator;
        Count = inputs.shape[0];
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        DisposeBatches = disposeBatches;
    }

    /// <summary>Batches per epoch: ceil(N / B), or floor(N / B) with <see cref="DropLast"/>.</summary>
    public long Batches => DropLast ? Count / BatchSize : (Count + BatchSize - 1) / BatchSize;

    /// <summary>One epoch of batches, reshuffled (when shuffling) at the start.</summary>
    public IEnumerator<(Tensor Input, Tensor Target)> GetEnumerator()
    {
        Tensor? order = null;
        (Tensor, Tensor)? previous = null;
        try
        {
            if (Shuffle)
            {
                // PyTorch's _BaseDataLoaderIter base seed: one random64 draw (range >= 2^32).
                if (_generator is not null) randint(0, long.MaxValue, [], ScalarType.Int64, CPU, generator: _generator).Dispose();
                using var perm = randperm(Count, ScalarType.Int64, CPU, generator: _generator);
                // The permutation lives for the epoch, not in whatever scope the caller has open.
                order = (_inputs.device.type == DeviceType.CPU ? perm.alias() : perm.to(_inputs.device)).DetachFromDisposeScope();
            }
            for (long b = 0; b < Batches; b++)
            {
                if (previous is var (px, py)) { px.Dispose(); py.Dispose(); }
                long start = b * BatchSize, length = Math.Min(BatchSize, Count - start);
                Tensor x, y;
                if (order is null)
                {
                    x = _inputs.narrow(0, start, length);
                    y = _targets.narrow(0, start, length);
                }
                else
                {
                    using var index = order.narrow(0, start, length);
                    x = _inputs.index_select(0, index);
                    y = _targets.index_select(0, index);
                }
                if (DisposeBatches) previous = (x, y);
                yield return (x, y);
            }
            // RandomSampler's randperm for the remainder, drawn when its epoch runs out.
            if (Shuffle && _generator is not null) randperm(Count, ScalarType.Int64, CPU, generator: _generator).Dispose();
        }
        finally
        {
            if (previous is var (px, py)) { px.Dispose(); py.Dispose(); }
            order?.Dispose();
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
