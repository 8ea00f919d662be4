namespace Engine.Data;

/// <summary>
/// CIFAR-10 in its binary version (cifar-10-binary.tar.gz, folder cifar-10-batches-bin): files
/// data_batch_1.bin ... data_batch_5.bin (train, 10,000 images each) and test_batch.bin, each a
/// sequence of 3,073-byte records:
/// <code>
/// 1 byte      label 0-9
/// 3072 bytes  the 32×32 image, channel-major: 1024 red, 1024 green, 1024 blue, each row-major
/// </code>
/// Loaded as float32 [N, 3, 32, 32] in [0, 1] (1/255, PyTorch's ToTensor; torchvision's CIFAR10
/// reads the Python pickles instead, same pixels) and labels int64 [N]. No package here serves
/// CIFAR-10, so no script fetches it; the reader is tested on files the tests write.
/// </summary>
public sealed class Cifar10 : LabeledImages
{
    public const int RecordBytes = 1 + 3 * 32 * 32;
    /// <summary>How to get the files (no fetch script: no package here serves CIFAR-10).</summary>
    public const string Fetch = "no script here; download cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html and extract cifar-10-batches-bin/*.bin into the folder";
    static readonly string[] Names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
    static readonly string[] TrainFiles = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];

    Cifar10(Tensor images, Tensor labels) : base(images, labels) { }

    public override IReadOnlyList<string> Classes => Names;

    /// <summary>Loads the train split (data_batch_1..5.bin, in that order) or the test split
    /// (test_batch.bin) from <paramref name="folder"/> (default: <c>DataCache.Folder("cifar-10-batches-bin")</c>).</summary>
    /// <exception cref="FileNotFoundException">A file is missing; the message names it and says where to get it.</exception>
    /// <exception cref="InvalidDataException">A file's size is not a whole number of records, or a label is above 9.</exception>
    public static Cifar10 Load(string? folder = null, bool train = true, Device? device = null)
    {
        folder ??= DataCache.Folder("cifar-10-batches-bin");
        var paths = (train ? TrainFiles : ["test_batch.bin"]).Select(name =>
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path))
                throw new FileNotFoundException($"CIFAR-10 file {name} not found in {folder}; {Fetch}", path);
            return path;
        }).ToArray();
        return Read(paths, device);
    }

    /// <summary>Reads the records of the given .bin files, concatenated in order.</summary>
    public static Cifar10 Read(IReadOnlyList<string> paths, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var files = paths.Select(p => (Path: p, Bytes: File.ReadAllBytes(p))).ToArray();
        long n = 0;
        foreach (var (path, bytes) in files)
        {
            if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
                throw new InvalidDataException($"{path}: {bytes.Length} bytes is not a whole number of {RecordBytes}-byte CIFAR-10 records (truncated, or not the binary version); {Fetch}");
            n += bytes.Length / RecordBytes;
        }
        var pixels = new byte[n * (RecordBytes - 1)];
        var labels = new long[n];
        long i = 0;
        foreach (var (path, bytes) in files)
            for (int r = 0; r < bytes.Length / RecordBytes; r++, i++)
            {
                int offset = r * RecordBytes;
                if (bytes[offset] > 9)
                    throw new InvalidDataException($"{path}: record {r} has label {bytes[offset]}; CIFAR-10 labels are 0-9 (CIFAR-100's binary records have 2 label bytes)");
                labels[i] = bytes[offset];
                Buffer.BlockCopy(bytes, offset + 1, pixels, (int)(i * (RecordBytes - 1)), RecordBytes - 1);
            }
        using var scope = NewDisposeScope();
        var dev = device ?? CPU;
        var images = tensor(pixels, [n, 3, 32, 32], ScalarType.Byte).to(ScalarType.Float32).div_(255.0).to(dev);
        var labelTensor = tensor(labels, ScalarType.Int64).to(dev);
        return new Cifar10(images.DetachFromDisposeScope(), labelTensor.DetachFromDisposeScope());
    }
}
