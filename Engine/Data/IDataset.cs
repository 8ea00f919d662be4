namespace Engine.Data;

/// <summary>
/// A map-style data set of N samples that hands out whole batches: PyTorch's
/// <c>torch.utils.data.Dataset</c> with its batched <c>__getitems__</c> (2.x) as the only access.
/// PyTorch fetches samples one by one (<c>__getitem__</c>) and collates them on the host; here a
/// batch is one <c>index_select</c> by an int64 index tensor, on the data's device, so a data set
/// of tensors never loops over samples in C#.
/// </summary>
public interface IDataset
{
    /// <summary>Number of samples, N (PyTorch's <c>__len__</c>).</summary>
    long Count { get; }

    /// <summary>The samples at <paramref name="indices"/> (int64 [B], each in [0, N)) as a batch
    /// (input [B, ...], target [B, ...]), made in the caller's dispose scope; the caller owns them.
    /// The index tensor may be on the CPU or on the data's device.</summary>
    (Tensor Input, Tensor Target) GetBatch(Tensor indices);
}
