namespace Engine.Data;

/// <summary>
/// MNIST: images as float32 [N, 1, 28, 28] scaled to [0, 1] by 1/255 (PyTorch's ToTensor;
/// TorchSharp's TorchVision MNIST loader divides by 256 instead) and labels as int64 [N], the
/// digits 0-9. <c>scripts/get-mnist.sh</c> fetches the canonical IDX files (60,000 train, 10,000
/// test) into <see cref="DataCache"/>'s mnist folder.
/// </summary>
public sealed class Mnist : LabeledImages
{
    /// <summary>The command that fetches the files.</summary>
    public const string Fetch = "scripts/get-mnist.sh";
    static readonly string[] Digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    Mnist(Tensor images, Tensor labels) : base(images, labels) { }

    public override IReadOnlyList<string> Classes => Digits;

    /// <summary>Loads the train (train-*) or test (t10k-*) split from a folder holding the IDX
    /// files, plain or .gz (default: <c>DataCache.Folder("mnist")</c>).</summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message says how to fetch it.</exception>
    /// <exception cref="InvalidDataException">A file is not valid IDX, or images and labels do not match.</exception>
    public static Mnist Load(string? folder = null, bool train = true, Device? device = null)
    {
        var (images, labels) = LoadIdx(folder ?? DataCache.Folder("mnist"), train, device, "MNIST", Fetch);
        return new Mnist(images, labels);
    }
}
