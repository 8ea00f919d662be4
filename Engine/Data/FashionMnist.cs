namespace Engine.Data;

/// <summary>
/// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28×28 grey images of 10 kinds of clothing in
/// MNIST's IDX layout, as float32 [N, 1, 28, 28] in [0, 1] (1/255) and labels int64 [N].
/// <c>scripts/get-fashion-mnist.sh</c> fetches the gzipped files (60,000 train, 10,000 test) from
/// Debian's dataset-fashion-mnist package into <see cref="DataCache"/>'s fashion-mnist folder.
/// torchvision's FashionMNIST gives the same tensors (after ToTensor).
/// </summary>
public sealed class FashionMnist : LabeledImages
{
    /// <summary>The command that fetches the files.</summary>
    public const string Fetch = "scripts/get-fashion-mnist.sh";
    static readonly string[] Names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    FashionMnist(Tensor images, Tensor labels) : base(images, labels) { }

    public override IReadOnlyList<string> Classes => Names;

    /// <summary>Loads the train (train-*) or test (t10k-*) split from a folder holding the IDX
    /// files, plain or .gz (default: <c>DataCache.Folder("fashion-mnist")</c>).</summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message says how to fetch it.</exception>
    /// <exception cref="InvalidDataException">A file is not valid (gzipped) IDX, or images and labels do not match.</exception>
    public static FashionMnist Load(string? folder = null, bool train = true, Device? device = null)
    {
        var (images, labels) = LoadIdx(folder ?? DataCache.Folder("fashion-mnist"), train, device, "Fashion-MNIST", Fetch);
        return new FashionMnist(images, labels);
    }
}
