namespace Engine.Data;

/// <summary>
/// MNIST (or Fashion-MNIST, same files): images as float32 [N, 1, 28, 28] scaled to [0, 1] by
/// 1/255 (PyTorch's ToTensor; TorchSharp's TorchVision MNIST loader divides by 256 instead) and
/// labels as int64 [N]. <c>scripts/get-mnist.sh</c> fetches the canonical IDX files into
/// data/mnist (60,000 train, 10,000 test).
/// </summary>
public sealed class Mnist : IDisposable
{
    /// <summary>float32 [N, 1, 28, 28] in [0, 1].</summary>
    public Tensor Images { get; }
    /// <summary>int64 [N], the digits 0-9.</summary>
    public Tensor Labels { get; }
    public long Count => Labels.shape[0];

    Mnist(Tensor images, Tensor labels)
    {
        Images = images;
        Labels = labels;
    }

    /// <summary>Loads the train (train-*) or test (t10k-*) split from a folder holding the IDX
    /// files, plain or .gz. The tensors belong to the returned object (not to any dispose scope):
    /// dispose it when done.</summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message says how to fetch it.</exception>
    /// <exception cref="InvalidDataException">A file is not valid IDX, or images and labels do not match.</exception>
    public static Mnist Load(string folder, bool train = true, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        string prefix = train ? "train" : "t10k";
        string Find(string name)
        {
            foreach (var candidate in new[] { name, name + ".gz" })
            {
                var path = Path.Combine(folder, candidate);
                if (File.Exists(path)) return path;
            }
            throw new FileNotFoundException($"MNIST file {name}(.gz) not found in {folder}; run scripts/get-mnist.sh", Path.Combine(folder, name));
        }
        var imagesPath = Find($"{prefix}-images-idx3-ubyte");
        var labelsPath = Find($"{prefix}-labels-idx1-ubyte");

        using var scope = NewDisposeScope();
        var rawImages = Idx.Read(imagesPath, CPU);
        var rawLabels = Idx.Read(labelsPath, CPU);
        if (rawImages.dtype != ScalarType.Byte || rawImages.dim() != 3)
            throw new InvalidDataException($"{imagesPath}: MNIST images are uint8 [N, rows, cols], this file holds {rawImages.dtype} [{string.Join(", ", rawImages.shape)}]");
        if (rawLabels.dtype != ScalarType.Byte || rawLabels.dim() != 1)
            throw new InvalidDataException($"{labelsPath}: MNIST labels are uint8 [N], this file holds {rawLabels.dtype} [{string.Join(", ", rawLabels.shape)}]");
        if (rawImages.shape[0] != rawLabels.shape[0])
            throw new InvalidDataException($"{folder}: {rawImages.shape[0]} images but {rawLabels.shape[0]} labels");

        var dev = device ?? CPU;
        var images = rawImages.to(ScalarType.Float32).div_(255.0).unsqueeze(1).to(dev);
        var labels = rawLabels.to(ScalarType.Int64).to(dev);
        return new Mnist(images.DetachFromDisposeScope(), labels.DetachFromDisposeScope());
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
