namespace Engine.Data;

/// <summary>
/// MNIST (or Fashion-MNIST, same files): images as float32 [N, 1, 28, 28] scaled to [0, 1] and
/// labels as int64 [N]. <c>scripts/get-mnist.sh</c> fetches the canonical files into data/mnist.
/// </summary>
public sealed class Mnist : IDisposable
{
    public Tensor Images { get; }
    public Tensor Labels { get; }
    public long Count => Labels.Size(0);

    Mnist(Tensor images, Tensor labels)
    {
        Images = images;
        Labels = labels;
    }

    /// <summary>Loads the train (60,000) or test (10,000) split from a folder holding the IDX
    /// files (plain or .gz).</summary>
    public static Mnist Load(string folder, bool train = true, Device? device = null)
    {
        string prefix = train ? "train" : "t10k";
        string Find(string name)
        {
            foreach (var candidate in new[] { name, name + ".gz" })
            {
                var path = Path.Combine(folder, candidate);
                if (File.Exists(path)) return path;
            }
            throw new FileNotFoundException($"MNIST file {name}(.gz) not found in {folder}; run scripts/get-mnist.sh");
        }
        using var scope = DisposeScope.Begin();
        var rawImages = Idx.Read(Find($"{prefix}-images-idx3-ubyte"), Device.CPU);
        var rawLabels = Idx.Read(Find($"{prefix}-labels-idx1-ubyte"), Device.CPU);
        var dev = device ?? Torch.DefaultDevice;
        var images = rawImages.To(dev, ScalarType.Float32).Div_(255.0).Unsqueeze(1).MoveToOuterScope();
        var labels = rawLabels.To(dev, ScalarType.Int64).MoveToOuterScope();
        return new Mnist(images.DetachFromDisposeScope(), labels.DetachFromDisposeScope());
    }

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
