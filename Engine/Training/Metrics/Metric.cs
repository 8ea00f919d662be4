namespace Engine.Training.Metrics;

/// <summary>
/// A quantity accumulated over the batches of an epoch (Keras' <c>keras.metrics.Metric</c>,
/// torchmetrics' <c>Metric</c>): <see cref="Update"/> adds a batch on the prediction's device
/// without reading anything back to the host; <see cref="Compute"/> reads the accumulated sums once
/// (one host sync) at the end of an epoch or at a logging point; <see cref="Reset"/> starts over.
/// Usable without the Trainer in a hand-written loop. The accumulators are kept out of every
/// dispose scope and freed by <see cref="Reset"/> and <see cref="Dispose"/>.
/// </summary>
public abstract class Metric : IDisposable
{
    /// <summary>The names <see cref="Compute"/> returns (known before any batch, so a monitor can be
    /// checked before training starts).</summary>
    public abstract IReadOnlyList<string> Names { get; }

    /// <summary>Adds one batch: <paramref name="prediction"/> is the model's output, <paramref name="target"/> the batch's target.</summary>
    public abstract void Update(Tensor prediction, Tensor target);

    /// <summary>The values over every batch since the last <see cref="Reset"/> (NaN before any batch).</summary>
    public abstract IReadOnlyDictionary<string, double> Compute();

    /// <summary>Forgets every batch.</summary>
    public abstract void Reset();

    /// <summary>Data-parallel training: sums this metric's accumulators over every rank of
    /// <paramref name="group"/> (each rank saw its shard), so <see cref="Compute"/> gives the whole
    /// data's value on every rank. Every rank must call it. A metric of your own overrides it to
    /// sum its accumulators (the built-in ones do); the default refuses rather than report one shard.</summary>
    public virtual void Synchronize(Distributed.ProcessGroup group) =>
        throw new NotSupportedException($"{GetType().Name} does not implement Synchronize(ProcessGroup); override it to all-reduce (sum) its accumulators for data-parallel training");

    /// <summary>Sums host values over the ranks in float64 (counts stay exact below 2^53).</summary>
    protected static double[] SumAcross(Distributed.ProcessGroup group, params double[] values)
    {
        using var t = torch.tensor(values, ScalarType.Float64);
        group.AllReduce(t, Distributed.ReduceOp.Sum);
        return t.data<double>().ToArray();
    }

    /// <summary>A scalar accumulator's value on the host (0 when it was never made).</summary>
    protected static double Value(Tensor? accumulator) => accumulator is null ? 0 : accumulator.to(ScalarType.Float64).item<double>();

    /// <summary>Replaces a scalar accumulator with <paramref name="value"/>, on its device (the CPU when it was never made).</summary>
    protected static void Set(ref Tensor? accumulator, double value, ScalarType dtype)
    {
        var device = accumulator?.device ?? CPU;
        Free(ref accumulator);
        using var t = torch.tensor(value, ScalarType.Float64);
        accumulator = t.to(dtype, device).DetachFromDisposeScope();
    }

    public virtual void Dispose()
    {
        Reset();
        GC.SuppressFinalize(this);
    }

    /// <summary>Adds <paramref name="value"/> into an accumulator that lives across steps, made on
    /// the value's device (float64 sums, int64 counts) at the first call.</summary>
    protected static void Accumulate(ref Tensor? sum, Tensor value)
    {
        if (sum is null) sum = value.clone().DetachFromDisposeScope();
        else sum.add_(value);
    }

    protected static void Free(ref Tensor? t)
    {
        t?.Dispose();
        t = null;
    }

    internal static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}
