namespace Engine.Data;

/// <summary>
/// In-memory samples: inputs [N, ...] and targets [N, ...] sharing their first dimension
/// (PyTorch's <c>TensorDataset(inputs, targets)</c>, restricted to two tensors). A batch is
/// <c>inputs.index_select(0, idx)</c> and <c>targets.index_select(0, idx)</c> on the tensors'
/// device. The data set keeps references to the tensors and never disposes them.
/// </summary>
public sealed class TensorDataset : IDataset
{
    /// <summary>[N, ...] samples.</summary>
    public Tensor Inputs { get; }
    /// <summary>[N, ...] targets, on the inputs' device.</summary>
    public Tensor Targets { get; }
    public long Count { get; }

    /// <exception cref="ArgumentException">Scalars, a different first dimension, or different devices.</exception>
    public TensorDataset(Tensor inputs, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(targets);
        Check(inputs, targets, nameof(TensorDataset));
        Inputs = inputs;
        Targets = targets;
        Count = inputs.shape[0];
    }

    /// <summary>The checks PyTorch's TensorDataset makes (same first dimension), plus one device.</summary>
    internal static void Check(Tensor inputs, Tensor targets, string call)
    {
        if (inputs.dim() == 0 || targets.dim() == 0)
            throw new ArgumentException($"{call}: inputs [{string.Join(", ", inputs.shape)}] and targets [{string.Join(", ", targets.shape)}] need a first (sample) dimension");
        if (inputs.shape[0] != targets.shape[0])
            throw new ArgumentException($"{call}: inputs [{string.Join(", ", inputs.shape)}] and targets [{string.Join(", ", targets.shape)}] differ in their first (sample) dimension");
        if (inputs.device.type != targets.device.type || inputs.device.index != targets.device.index)
            throw new ArgumentException($"{call}: inputs are on {inputs.device}, targets on {targets.device}; put both on one device");
    }

    public (Tensor Input, Tensor Target) GetBatch(Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        Dataset.CheckIndices(indices, nameof(TensorDataset));
        if (SameDevice(indices.device, Inputs.device))
            return (Inputs.index_select(0, indices), Targets.index_select(0, indices));
        using var onDevice = indices.to(Inputs.device);
        return (Inputs.index_select(0, onDevice), Targets.index_select(0, onDevice));
    }

    /// <summary>Samples start..start+length-1 as views (no copy): the unshuffled loader's batches.</summary>
    internal (Tensor Input, Tensor Target) Narrow(long start, long length) =>
        (Inputs.narrow(0, start, length), Targets.narrow(0, start, length));

    static bool SameDevice(Device a, Device b) => a.type == b.type && (a.type == DeviceType.CPU || a.index == b.index);
}
