namespace Engine.Data;

/// <summary>
/// A classification image set in memory: images float32 [N, C, H, W] scaled to [0, 1] by 1/255
/// (PyTorch's <c>ToTensor</c>) and labels int64 [N]. The tensors belong to this object (not to any
/// dispose scope): dispose it when done. <see cref="ToDataset"/> gives a
/// <see cref="TensorDataset"/> over them for a <see cref="DataLoader"/>.
/// </summary>
public abstract class LabeledImages : IDisposable
{
    /// <summary>float32 [N, C, H, W] in [0, 1].</summary>
    public Tensor Images { get; }
    /// <summary>int64 [N], the class indices.</summary>
    public Tensor Labels { get; }
    public long Count => Labels.shape[0];
    /// <summary>The class names, index i for label i.</summary>
    public abstract IReadOnlyList<string> Classes { get; }

    protected LabeledImages(Tensor images, Tensor labels)
    {
        Images = images;
        Labels = labels;
    }

    /// <summary>A data set over <see cref="Images"/> and <see cref="Labels"/> (no copy; valid while this object is).</summary>
    public TensorDataset ToDataset() => new(Images, Labels);

    /// <summary>Loads train (train-*) or test (t10k-*) IDX images [N, rows, cols] and labels [N], both
    /// uint8, plain or .gz: the MNIST layout, shared by Fashion-MNIST.</summary>
    internal static (Tensor Images, Tensor Labels) LoadIdx(string folder, bool train, Device? device, string what, string fetch)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string prefix = train ? "train" : "t10k";
        var imagesPath = DataCache.Find(folder, $"{prefix}-images-idx3-ubyte", what, fetch);
        var labelsPath = DataCache.Find(folder, $"{prefix}-labels-idx1-ubyte", what, fetch);

        using var scope = NewDisposeScope();
        var rawImages = ReadIdx(imagesPath, fetch);
        var rawLabels = ReadIdx(labelsPath, fetch);
        if (rawImages.dtype != ScalarType.Byte || rawImages.dim() != 3)
            throw new InvalidDataException($"{imagesPath}: {what} images are uint8 [N, rows, cols], this file holds {rawImages.dtype} [{string.Join(", ", rawImages.shape)}]; fetch it again with {fetch}");
        if (rawLabels.dtype != ScalarType.Byte || rawLabels.dim() != 1)
            throw new InvalidDataException($"{labelsPath}: {what} labels are uint8 [N], this file holds {rawLabels.dtype} [{string.Join(", ", rawLabels.shape)}]; fetch it again with {fetch}");
        if (rawImages.shape[0] != rawLabels.shape[0])
            throw new InvalidDataException($"{folder}: {rawImages.shape[0]} images but {rawLabels.shape[0]} labels; fetch them again with {fetch}");

        var dev = device ?? CPU;
        var images = rawImages.to(ScalarType.Float32).div_(255.0).unsqueeze(1).to(dev);
        var labels = rawLabels.to(ScalarType.Int64).to(dev);
        return (images.DetachFromDisposeScope(), labels.DetachFromDisposeScope());
    }

    static Tensor ReadIdx(string path, string fetch)
    {
        try
        {
            return Idx.Read(path, CPU);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{e.Message}; fetch it again with {fetch}", e);
        }
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
        GC.SuppressFinalize(this);
    }
}
