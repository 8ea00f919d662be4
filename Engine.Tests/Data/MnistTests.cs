using Engine.Data;

namespace Engine.Tests.Data;

/// <summary>Mnist.Load on a small folder of IDX files written here, and on the real files when
/// scripts/get-mnist.sh has fetched them (data/mnist at the repository root).</summary>
public class MnistTests
{
    string _dir = "";

    [SetUp]
    public void CreateFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "engine-mnist-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    void WriteSplit(string prefix, int count, int labels)
    {
        var pixels = Enumerable.Range(0, count * 28 * 28).Select(i => (byte)(i % 256)).ToArray();
        File.WriteAllBytes(Path.Combine(_dir, $"{prefix}-images-idx3-ubyte"), IdxTests.IdxBytes(0x08, [count, 28, 28], pixels));
        File.WriteAllBytes(Path.Combine(_dir, $"{prefix}-labels-idx1-ubyte"),
            IdxTests.IdxBytes(0x08, [labels], Enumerable.Range(0, labels).Select(i => (byte)(i % 10)).ToArray()));
    }

    [Test]
    public void Images_are_float_n_1_28_28_scaled_by_1_over_255_and_labels_int64()
    {
        WriteSplit("t10k", 3, 3);
        using var mnist = Mnist.Load(_dir, train: false);
        Assert.That(mnist.Images.shape, Is.EqualTo(new long[] { 3, 1, 28, 28 }));
        Assert.That(mnist.Images.dtype, Is.EqualTo(ScalarType.Float32));
        Assert.That(mnist.Labels.dtype, Is.EqualTo(ScalarType.Int64));
        Assert.That(mnist.Count, Is.EqualTo(3));
        Assert.That(mnist.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 2 }));
        var pixels = mnist.Images.data<float>().ToArray();
        // PyTorch's ToTensor: byte / 255 in float32; the division is exact to the rounding of one op.
        for (int i = 0; i < pixels.Length; i++) Assert.That(pixels[i], Is.EqualTo((float)(i % 256) / 255f), $"pixel {i}");
    }

    [Test]
    public void Missing_files_say_how_to_fetch_them()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => Mnist.Load(_dir))!;
        Assert.That(ex.Message, Does.Contain("train-images-idx3-ubyte").And.Contain("scripts/get-mnist.sh"));
    }

    [Test]
    public void Images_and_labels_of_different_counts_are_an_error()
    {
        WriteSplit("train", 4, 5);
        var ex = Assert.Throws<InvalidDataException>(() => Mnist.Load(_dir))!;
        Assert.That(ex.Message, Does.Contain("4 images but 5 labels"));
    }

    [Test]
    public void Loads_the_canonical_files_fetched_by_get_mnist()
    {
        var folder = FindRepoData("mnist");
        if (folder is null) Assert.Ignore("data/mnist not fetched (scripts/get-mnist.sh)");
        using var train = Mnist.Load(folder, train: true);
        using var test = Mnist.Load(folder, train: false);
        Assert.That(train.Images.shape, Is.EqualTo(new long[] { 60000, 1, 28, 28 }));
        Assert.That(test.Images.shape, Is.EqualTo(new long[] { 10000, 1, 28, 28 }));
        // Known facts of the canonical files: the first training digits are 5 0 4 1 9, the first
        // test digits 7 2 1 0 4, and the training set holds 5,923 zeros.
        Assert.That(train.Labels[..5].data<long>().ToArray(), Is.EqualTo(new long[] { 5, 0, 4, 1, 9 }));
        Assert.That(test.Labels[..5].data<long>().ToArray(), Is.EqualTo(new long[] { 7, 2, 1, 0, 4 }));
        Assert.That(train.Labels.eq(0).sum().item<long>(), Is.EqualTo(5923));
        Assert.That(train.Images.min().item<float>(), Is.EqualTo(0f));
        Assert.That(train.Images.max().item<float>(), Is.EqualTo(1f));
    }

    /// <summary>data/&lt;name&gt; in the first folder above the test binaries that holds Engine.sln.</summary>
    static string? FindRepoData(string name)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln")))
            {
                var data = Path.Combine(dir.FullName, "data", name);
                return Directory.Exists(data) ? data : null;
            }
        return null;
    }
}
