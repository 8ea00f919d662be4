namespace Engine.Data;

/// <summary>
/// Which samples a <see cref="DataLoader"/> draws each epoch, and in what order (PyTorch's
/// <c>torch.utils.data.Sampler</c>, given to the loader as <see cref="DataLoaderOptions.Sampler"/>).
/// The order must be a pure function of the epoch number: the loader asks for epoch e's indices
/// at the start of its e-th epoch (0-based), and a restored loader (<see cref="DataLoader.Restore"/>)
/// asks again for the epoch it resumes, so no sampler state needs saving.
/// </summary>
public interface IIndexSampler
{
    /// <summary>Samples per epoch (PyTorch's <c>len(sampler)</c>): the length of every
    /// <see cref="Indices"/>.</summary>
    long Length { get; }

    /// <summary>Epoch <paramref name="epoch"/>'s sample indices in order: a new int64 [Length]
    /// tensor, each in [0, N) of the loader's data set, made in the caller's dispose scope; the
    /// caller owns it.</summary>
    Tensor Indices(long epoch);
}
