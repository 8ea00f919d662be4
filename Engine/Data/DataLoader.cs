using System.Collections;

namespace Engine.Data;

/// <summary>
/// Mini-batches of (input, target) from an <see cref="IDataset"/> (PyTorch's DataLoader). Each
/// enumeration is one epoch:
/// <code>
/// for epoch in 1..E:
///     order = randperm(N, generator)      (0, 1, ..., N-1 when not shuffled;
///                                          sampler.Indices(epoch - 1) with options.Sampler, L of them)
///     for b in 0..batches-1:
///         idx = order[b*B : (b+1)*B]      (the last batch is smaller, or dropped with dropLast)
///         x, y = dataset[idx]             (index_select on the data's device)
///         x, y = x.to(device), y.to(device)             (options.Device; pinned + non_blocking to CUDA)
///         x, y = augmentation(x, y)  if training        (options.Augmentation)
///         x, y = transform(x, y)                        (options.Transform)
///         yield (x, y)
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
/// With <see cref="DataLoaderOptions.Sampler"/> (e.g. a <see cref="DistributedSampler"/>: this
/// rank's shard of a data-parallel epoch) the sampler gives each epoch's L indices instead, and
/// the loader must not shuffle. The loader hands the sampler its own 0-based epoch counter, so
/// unlike PyTorch (where <c>sampler.set_epoch(epoch)</c> must be called before every epoch, or
/// every epoch repeats the first order) each epoch gets its own order without any call. The
/// generator, if any, draws nothing then.
/// </para>
/// <para>
/// Batches are <c>index_select</c>s on the data's device (one device-side permutation per epoch,
/// no per-sample host work); unshuffled batches of a <see cref="TensorDataset"/> are <c>narrow</c>
/// views, so do not modify them in place. The batch tensors are made in (or, from workers, handed
/// into) the dispose scope current when the batch is drawn, and, with <c>disposeBatches</c> (the
/// default, as TorchSharp's DataLoader), the loader also disposes each batch when the next is drawn
/// or the epoch ends, so a loop body's own <c>NewDisposeScope()</c> is enough to run without leaks:
/// <c>clone()</c> a batch to keep it. Disposing a batch never touches the loader's data.
/// </para>
/// <para>
/// With <see cref="DataLoaderOptions.Workers"/> ≥ 1, background threads prepare the next batches
/// (PyTorch uses processes). Each batch is made in the worker's own dispose scope (scopes are per
/// thread), detached from it, and handed over in order; the worker's intermediates die in its
/// scope, and batches still queued when an epoch is abandoned are disposed. Transforms run one at
/// a time in batch order, so the batches are identical with and without workers. The generator is only used by the
/// consumer's thread, at the start and end of an epoch. Workers prepare batches without autograd
/// (<c>no_grad</c>; grad mode is per thread in libtorch).
/// </para>
/// <para>
/// <see cref="State"/> and <see cref="Restore"/> save and restore the position (epoch, batch, the
/// generator's state at the epoch's start) so that a resumed run sees the same batches as an
/// uninterrupted one. An augmentation that draws from its own generators
/// (<see cref="IRandomTransform"/>, e.g. ImageAugmentation) has their states recorded before each
/// batch it augments: the state reports those of the next batch the consumer will see, and an
/// epoch left early rewinds them to it, so prefetching ahead never changes what a resumed or a
/// continued run draws.
/// </para>
/// </summary>
public sealed class DataLoader : IBatchSource
{
    readonly IDataset _dataset;
    readonly Generator? _generator;
    readonly DataLoaderOptions _options;
    long _epoch, _handedOut, _resumeBatch;
    byte[]? _epochStartState;
    bool _inEpoch;
    readonly IReadOnlyList<Generator> _augmentationGenerators;
    readonly object _augmentationGate = new();
    // The augmentation generators' states before batch b was augmented, for batches prepared
    // but not yet handed out (workers run ahead).
    readonly Dictionary<long, byte[][]> _augmentationBefore = new();

    /// <summary>Samples per batch (the last one may hold fewer unless <see cref="DropLast"/>).</summary>
    public long BatchSize { get; }
    public bool Shuffle { get; }
    /// <summary>Drop the last, smaller batch (when N is not a multiple of the batch size).</summary>
    public bool DropLast { get; }
    /// <summary>The loader disposes each batch's tensors when the next batch is drawn.</summary>
    public bool DisposeBatches { get; }
    /// <summary>Number of samples, N.</summary>
    public long Count { get; }
    /// <summary>Samples drawn per epoch: N, or the sampler's Length with <see cref="DataLoaderOptions.Sampler"/>.</summary>
    public long SamplesPerEpoch { get; }
    /// <summary>The data set batches are drawn from.</summary>
    public IDataset Dataset => _dataset;
    public DataLoaderOptions Options => _options;
    /// <summary>Whether <see cref="DataLoaderOptions.Augmentation"/> runs (set false for evaluation).
    /// Read when each batch is prepared: change it between epochs, not during one with workers.</summary>
    public bool Training { get; set; } = true;

    /// <param name="inputs">[N, ...] samples; the loader keeps a reference and never disposes it.</param>
    /// <param name="targets">[N, ...] targets on the same device.</param>
    /// <param name="generator">A CPU generator (<c>new Generator(seed)</c>) the epochs' orders are drawn from; null: torch's global generator.</param>
    public DataLoader(Tensor inputs, Tensor targets, long batchSize, bool shuffle = true, bool dropLast = false,
        Generator? generator = null, bool disposeBatches = true, DataLoaderOptions? options = null)
        : this(Checked(inputs, targets, batchSize), batchSize, shuffle, dropLast, generator, disposeBatches, options)
    {
    }

    /// <param name="dataset">The samples; the loader never disposes it.</param>
    /// <param name="generator">A CPU generator (<c>new Generator(seed)</c>) the epochs' orders are drawn from; null: torch's global generator.</param>
    /// <exception cref="ArgumentException">Batch size not positive, an empty data set, a CUDA generator, or bad
    /// options (a sampler with shuffle, or one that draws no samples).</exception>
    public DataLoader(IDataset dataset, long batchSize, bool shuffle = true, bool dropLast = false,
        Generator? generator = null, bool disposeBatches = true, DataLoaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "DataLoader: the batch size must be positive");
        if (dataset.Count <= 0)
            throw new ArgumentException($"DataLoader: the data set ({dataset.GetType().Name}) holds {dataset.Count} samples; it needs at least one", nameof(dataset));
        if (generator is not null && generator.device.type != DeviceType.CPU)
            throw new ArgumentException($"DataLoader: the generator is on {generator.device}; randperm draws on the CPU, give a CPU generator", nameof(generator));
        options ??= new DataLoaderOptions();
        if (options.Workers < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.Workers, "DataLoader: Workers must be 0 (no background threads) or more");
        if (options.Workers > 0 && options.PrefetchFactor < 1)
            throw new ArgumentOutOfRangeException(nameof(options), options.PrefetchFactor, $"DataLoader: PrefetchFactor must be at least 1 with {options.Workers} workers");
        if (options.Sampler is { } sampler)
        {
            if (shuffle)
                throw new ArgumentException($"DataLoader: the sampler option ({sampler.GetType().Name}) is mutually exclusive with shuffle; the sampler sets the order, pass shuffle: false", nameof(shuffle));
            if (sampler.Length < 1)
                throw new ArgumentException($"DataLoader: the sampler ({sampler.GetType().Name}) draws {sampler.Length} samples per epoch; it needs at least one", nameof(options));
        }
        _dataset = dataset;
        _generator = generator;
        _options = options;
        _augmentationGenerators = BatchTransform.GeneratorsOf(options.Augmentation);
        Count = dataset.Count;
        SamplesPerEpoch = options.Sampler?.Length ?? dataset.Count;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        DisposeBatches = disposeBatches;
    }

    static TensorDataset Checked(Tensor inputs, Tensor targets, long batchSize)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "DataLoader: the batch size must be positive");
        TensorDataset.Check(inputs, targets, nameof(DataLoader));
        return new TensorDataset(inputs, targets);
    }

    /// <summary>Batches per epoch: ceil(L / B), or floor(L / B) with <see cref="DropLast"/>, for the
    /// L = <see cref="SamplesPerEpoch"/> samples of an epoch (N without a sampler).</summary>
    public long Batches => DropLast ? SamplesPerEpoch / BatchSize : (SamplesPerEpoch + BatchSize - 1) / BatchSize;

    /// <summary>The position: within an epoch, its number, the batches handed out and the
    /// generator's state at its start; between epochs, the next epoch's number, 0 and the
    /// generator's current state. A sampler's order is a function of the epoch number, so the
    /// epoch is all that it needs.</summary>
    public DataLoaderState State => _inEpoch
        ? new DataLoaderState(_epoch, _handedOut, _epochStartState?.ToArray()) { AugmentationStates = AugmentationStatesBefore(_handedOut) }
        : new DataLoaderState(_epoch, _resumeBatch, GeneratorBytes()) { AugmentationStates = AugmentationStatesBefore(-1) };

    /// <summary>The augmentation generators' states before batch b: recorded if b was augmented
    /// already, else their current states (nothing after b-1 has drawn yet).</summary>
    byte[][] AugmentationStatesBefore(long b)
    {
        lock (_augmentationGate)
            return _augmentationBefore.TryGetValue(b, out var saved)
                ? saved.Select(a => a.ToArray()).ToArray()
                : _augmentationGenerators.Select(Bytes).ToArray();
    }

    static byte[] Bytes(Generator g)
    {
        using var s = g.get_state();
        return s.data<byte>().ToArray();
    }

    void SetAugmentationStates(byte[][] states, string call)
    {
        for (int i = 0; i < states.Length; i++) SetGeneratorState(_augmentationGenerators[i], states[i], call);
    }

    /// <summary>
    /// Continues from <paramref name="state"/>: sets the generator to the state at the start of
    /// that epoch, and the next enumeration replays the epoch's draws and skips its first
    /// state.Batch batches (without preparing them). Call between epochs.
    /// </summary>
    /// <exception cref="ArgumentException">A batch outside [0, batches], a generator state of the wrong size, or a state that needs a generator this loader lacks.</exception>
    /// <exception cref="InvalidOperationException">An epoch is being enumerated.</exception>
    public void Restore(DataLoaderState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (_inEpoch)
            throw new InvalidOperationException("DataLoader.Restore: an epoch is being enumerated; restore between epochs");
        if (state.AugmentationStates.Length != 0 && state.AugmentationStates.Length != _augmentationGenerators.Count)
            throw new ArgumentException($"DataLoader.Restore: the state holds {state.AugmentationStates.Length} augmentation generator states, this loader's augmentation has {_augmentationGenerators.Count} generators", nameof(state));
        if (state.Epoch < 0 || state.Batch < 0 || state.Batch > Batches)
            throw new ArgumentException($"DataLoader.Restore: epoch {state.Epoch}, batch {state.Batch}; expected epoch >= 0 and batch in [0, {Batches}] ({Batches} batches per epoch)", nameof(state));
        if (_generator is null)
        {
            if (state.GeneratorState is not null)
                throw new ArgumentException("DataLoader.Restore: the state holds a generator state but this loader has no generator", nameof(state));
            if (Shuffle && state.Batch > 0)
                throw new ArgumentException("DataLoader.Restore: a shuffled loader without a generator draws from torch's global generator and cannot resume mid-epoch; give it a Generator", nameof(state));
        }
        else
        {
            if (state.GeneratorState is null)
                throw new ArgumentException("DataLoader.Restore: this loader has a generator but the state holds no generator state", nameof(state));
            SetGeneratorState(_generator, state.GeneratorState, "DataLoader.Restore");
        }
        if (state.AugmentationStates.Length != 0) SetAugmentationStates(state.AugmentationStates, "DataLoader.Restore");
        _epoch = state.Epoch;
        _resumeBatch = state.Batch;
    }

    /// <summary>Sets a generator's state after checking what libtorch would abort the process on
    /// (not a ByteTensor of the generator's state size; DESIGN.md "Errors").</summary>
    internal static void SetGeneratorState(Generator generator, byte[] state, string call)
    {
        long size;
        using (var current = generator.get_state()) size = current.numel();
        if (state.Length != size)
            throw new ArgumentException($"{call}: the generator state has {state.Length} bytes, this generator's state has {size}");
        using var t = tensor(state, ScalarType.Byte);
        generator.set_state(t);
    }

    byte[]? GeneratorBytes()
    {
        if (_generator is null) return null;
        using var s = _generator.get_state();
        return s.data<byte>().ToArray();
    }

    /// <summary>One epoch of batches, reshuffled (when shuffling) at the start.</summary>
    public IEnumerator<(Tensor Input, Tensor Target)> GetEnumerator()
    {
        if (_inEpoch)
            throw new InvalidOperationException("DataLoader: an epoch is already being enumerated; finish or dispose its enumerator first");
        _inEpoch = true;
        _epochStartState = GeneratorBytes();
        long first = _resumeBatch;
        _resumeBatch = 0;
        _handedOut = first;
        Tensor? order = null;
        (Tensor, Tensor)? previous = null;
        Prefetcher? prefetcher = null;
        try
        {
            if (_options.Sampler is { } sampler)
                order = SamplerOrder(sampler, _epoch);
            else if (Shuffle)
            {
                // PyTorch's _BaseDataLoaderIter base seed: one random64 draw (range >= 2^32).
                if (_generator is not null) randint(0, long.MaxValue, [], ScalarType.Int64, CPU, generator: _generator).Dispose();
                using var perm = randperm(Count, ScalarType.Int64, CPU, generator: _generator);
                // The permutation lives for the epoch, not in whatever scope the caller has open.
                // A TensorDataset on a device gets its permutation there once per epoch, not per batch.
                var device = _dataset is TensorDataset td ? td.Inputs.device : CPU;
                order = (device.type == DeviceType.CPU ? perm.alias() : perm.to(device)).DetachFromDisposeScope();
            }
            if (_options.Workers > 0 && first < Batches)
                prefetcher = new Prefetcher(this, order, first, Batches);
            for (long b = first; b < Batches; b++)
            {
                if (previous is var (px, py)) { px.Dispose(); py.Dispose(); previous = null; }
                var (x, y) = prefetcher is null ? Prepare(b, order) : prefetcher.Take(b);
                if (DisposeBatches) previous = (x, y);
                _handedOut = b + 1;
                if (_augmentationGenerators.Count > 0) lock (_augmentationGate) _augmentationBefore.Remove(b);
                yield return (x, y);
            }
            // RandomSampler's randperm for the remainder, drawn when its epoch runs out.
            if (Shuffle && _generator is not null) randperm(Count, ScalarType.Int64, CPU, generator: _generator).Dispose();
        }
        finally
        {
            if (previous is var (px, py)) { px.Dispose(); py.Dispose(); }
            prefetcher?.Dispose();
            // Batches augmented ahead and never handed out must not have drawn: rewind the
            // augmentation to where the consumer stopped.
            lock (_augmentationGate)
            {
                if (_augmentationBefore.TryGetValue(_handedOut, out var rewind)) SetAugmentationStates(rewind, "DataLoader");
                _augmentationBefore.Clear();
            }
            order?.Dispose();
            _inEpoch = false;
            _epochStartState = null;
            _handedOut = 0;
            // An epoch left early counts as done too: the next enumeration starts a new one.
            _epoch++;
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The sampler's indices for <paramref name="epoch"/>, checked against what the data
    /// set's gather expects (a custom data set may not check) and kept for the epoch on the data's
    /// device. One min/max read per epoch.</summary>
    Tensor SamplerOrder(IIndexSampler sampler, long epoch)
    {
        using var scope = NewDisposeScope();
        var indices = sampler.Indices(epoch);
        string what = $"DataLoader: the sampler ({sampler.GetType().Name}) gave epoch {epoch}";
        if (indices.dtype != ScalarType.Int64 || indices.dim() != 1 || indices.shape[0] != SamplesPerEpoch)
            throw new InvalidOperationException($"{what} indices of {indices.dtype} [{string.Join(", ", indices.shape)}]; expected Int64 [{SamplesPerEpoch}] (its Length)");
        long min = indices.min().item<long>(), max = indices.max().item<long>();
        if (min < 0 || max >= Count)
            throw new InvalidOperationException($"{what} indices in [{min}, {max}]; the data set holds {Count} samples, expected indices in [0, {Count - 1}]");
        var device = _dataset is TensorDataset td ? td.Inputs.device : CPU;
        bool there = indices.device.type == device.type && (device.type == DeviceType.CPU || indices.device.index == device.index);
        var order = there ? indices.alias() : indices.to(device);
        return order.DetachFromDisposeScope();
    }

    /// <summary>Batch b, made in the caller's current dispose scope; what it replaces on the way
    /// (a CPU batch moved to the device, a transform's input) is disposed here.</summary>
    internal (Tensor Input, Tensor Target) Prepare(long b, Tensor? order) => Prepare(b, order, null);

    /// <summary>Batch b; <paramref name="inTurn"/> wraps the transforms so workers run them in batch order.</summary>
    internal (Tensor Input, Tensor Target) Prepare(long b, Tensor? order, Func<Func<(Tensor, Tensor)>, (Tensor, Tensor)>? inTurn)
    {
        long start = b * BatchSize, length = Math.Min(BatchSize, SamplesPerEpoch - start);
        (Tensor X, Tensor Y) batch;
        if (order is null && _dataset is TensorDataset td)
            batch = td.Narrow(start, length);
        else
        {
            using var index = order is null ? arange(start, start + length, ScalarType.Int64) : order.narrow(0, start, length);
            batch = _dataset.GetBatch(index);
        }
        if (_options.Device is { } device)
            batch = (Replace(batch.X, ToDevice(batch.X, device)), Replace(batch.Y, ToDevice(batch.Y, device)));
        if (_options.Augmentation is not null || _options.Transform is not null)
        {
            var current = batch;
            batch = inTurn is null ? Transforms(b, current) : inTurn(() => Transforms(b, current));
        }
        return batch;
    }

    (Tensor, Tensor) Transforms(long b, (Tensor X, Tensor Y) batch)
    {
        if (Training && _options.Augmentation is { } augmentation)
        {
            if (_augmentationGenerators.Count > 0)
                lock (_augmentationGate)
                {
                    _augmentationBefore[b] = _augmentationGenerators.Select(Bytes).ToArray();
                    return TransformRest(Apply(augmentation, batch));
                }
            batch = Apply(augmentation, batch);
        }
        return TransformRest(batch);
    }

    (Tensor, Tensor) TransformRest((Tensor X, Tensor Y) batch)
    {
        if (_options.Transform is { } transform) batch = Apply(transform, batch);
        return batch;
    }

    static (Tensor, Tensor) Apply(IBatchTransform transform, (Tensor X, Tensor Y) batch)
    {
        var (x, y) = transform.Apply(batch.X, batch.Y);
        return (Replace(batch.X, x), Replace(batch.Y, y));
    }

    /// <summary>The new tensor, disposing the old one's wrapper when it is another object (the
    /// storage lives on while a view of it does).</summary>
    static Tensor Replace(Tensor old, Tensor @new)
    {
        if (!ReferenceEquals(old, @new)) old.Dispose();
        return @new;
    }

    Tensor ToDevice(Tensor t, Device device)
    {
        if (t.device.type == device.type && (device.type == DeviceType.CPU || t.device.index == device.index)) return t;
        // Page-locked memory lets the copy run asynchronously (non_blocking); libtorch's pinned
        // allocator keeps the block alive until the copy has finished, so disposing it is safe.
        if (device.type == DeviceType.CUDA && t.device.type == DeviceType.CPU && _options.PinMemory && cuda.is_available())
        {
            using var pinned = t.pin_memory();
            return pinned.to(device, non_blocking: true);
        }
        return t.to(device);
    }
}
