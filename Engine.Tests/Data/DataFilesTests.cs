using System.IO.Compression;
using Engine.Data;

namespace Engine.Tests.Data;

/// <summary>File formats on small files written here (Fashion-MNIST's gzipped IDX, CIFAR-10
/// binary records, CSV), and the real files when the fetch scripts have run (else the test is
/// ignored and says which command fetches them), checked against known facts of those files.</summary>
public class DataFilesTests
{
    string _dir = "";

    [SetUp]
    public void CreateFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "engine-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    static void WriteGzip(string path, byte[] bytes)
    {
        using var file = File.Create(path);
        using var gzip = new GZipStream(file, CompressionLevel.Fastest);
        gzip.Write(bytes);
    }

    /// <summary>The cache folder of a fetched data set, or Assert.Ignore naming the fetch command.</summary>
    static string Fetched(string name, string command, params string[] files)
    {
        var folder = DataCache.Folder(name);
        if (!files.All(f => File.Exists(Path.Combine(folder, f))))
            Assert.Ignore($"{folder} lacks the files; run {command}");
        return folder;
    }

    // ---- Fashion-MNIST ----

    [Test]
    public void FashionMnist_reads_gzipped_idx_like_mnist()
    {
        var pixels = Enumerable.Range(0, 2 * 28 * 28).Select(i => (byte)(i * 7 % 256)).ToArray();
        WriteGzip(Path.Combine(_dir, "t10k-images-idx3-ubyte.gz"), IdxTests.IdxBytes(0x08, [2, 28, 28], pixels));
        WriteGzip(Path.Combine(_dir, "t10k-labels-idx1-ubyte.gz"), IdxTests.IdxBytes(0x08, [2], [9, 0]));
        using var set = FashionMnist.Load(_dir, train: false);
        Assert.That(set.Images.shape, Is.EqualTo(new long[] { 2, 1, 28, 28 }));
        Assert.That(set.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 9, 0 }));
        Assert.That(set.Classes[9], Is.EqualTo("Ankle boot"));
        var got = set.Images.data<float>().ToArray();
        for (int i = 0; i < got.Length; i++) Assert.That(got[i], Is.EqualTo(pixels[i] / 255f), $"pixel {i}: ToTensor's byte / 255");
    }

    [Test]
    public void FashionMnist_missing_or_corrupt_files_name_the_file_and_the_fetch_command()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(_dir))!;
        Assert.That(missing.Message, Does.Contain("train-images-idx3-ubyte").And.Contain("scripts/get-fashion-mnist.sh").And.Contain(_dir));
        File.WriteAllBytes(Path.Combine(_dir, "train-images-idx3-ubyte.gz"), [1, 2, 3, 4, 5]);
        WriteGzip(Path.Combine(_dir, "train-labels-idx1-ubyte.gz"), IdxTests.IdxBytes(0x08, [1], [0]));
        var corrupt = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(_dir))!;
        Assert.That(corrupt.Message, Does.Contain("train-images-idx3-ubyte.gz").And.Contain("scripts/get-fashion-mnist.sh"));
    }

    [Test]
    public void FashionMnist_loads_the_files_fetched_by_get_fashion_mnist()
    {
        var folder = Fetched("fashion-mnist", FashionMnist.Fetch, "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz");
        using var train = FashionMnist.Load(folder, train: true);
        using var test = FashionMnist.Load(folder, train: false);
        Assert.That(train.Images.shape, Is.EqualTo(new long[] { 60000, 1, 28, 28 }));
        Assert.That(test.Images.shape, Is.EqualTo(new long[] { 10000, 1, 28, 28 }));
        // Facts of the published files: the first labels, 6,000 (1,000) of each class, and the
        // first training image's pixel sum (76,247 counted in the raw bytes with Python's gzip).
        Assert.That(train.Labels[..10].data<long>().ToArray(), Is.EqualTo(new long[] { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 }));
        Assert.That(test.Labels[..10].data<long>().ToArray(), Is.EqualTo(new long[] { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 }));
        Assert.That(train.Labels.bincount(null).data<long>().ToArray(), Is.All.EqualTo(6000));
        Assert.That(test.Labels.bincount(null).data<long>().ToArray(), Is.All.EqualTo(1000));
        Assert.That(train.Images[0].mul(255).round().sum().item<float>(), Is.EqualTo(76247f));
    }

    // ---- CIFAR-10 ----

    static byte[] CifarRecords(int count, int labelOffset)
    {
        var bytes = new byte[count * Cifar10.RecordBytes];
        for (int r = 0; r < count; r++)
        {
            bytes[r * Cifar10.RecordBytes] = (byte)((r + labelOffset) % 10);
            for (int p = 0; p < 3072; p++) bytes[r * Cifar10.RecordBytes + 1 + p] = (byte)((r * 31 + p) % 256);
        }
        return bytes;
    }

    [Test]
    public void Cifar10_reads_label_then_channel_major_pixels()
    {
        for (int k = 1; k <= 5; k++) File.WriteAllBytes(Path.Combine(_dir, $"data_batch_{k}.bin"), CifarRecords(2, k));
        File.WriteAllBytes(Path.Combine(_dir, "test_batch.bin"), CifarRecords(3, 0));
        using var train = Cifar10.Load(_dir, train: true);
        using var test = Cifar10.Load(_dir, train: false);
        Assert.That(train.Images.shape, Is.EqualTo(new long[] { 10, 3, 32, 32 }));
        Assert.That(train.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 1, 2, 2, 3, 3, 4, 4, 5, 5, 6 }), "files in order 1..5");
        Assert.That(test.Labels.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 2 }));
        // Record 1 of the test file: pixel p of the 3072 is channel p / 1024, row p % 1024 / 32, column p % 32.
        foreach (int p in new[] { 0, 33, 1024, 2047, 3071 })
            Assert.That(test.Images[1, p / 1024, p % 1024 / 32, p % 32].item<float>(), Is.EqualTo((byte)((31 + p) % 256) / 255f), $"pixel {p}");
        Assert.That(test.Classes[0], Is.EqualTo("airplane"));
    }

    [Test]
    public void Cifar10_missing_truncated_or_mislabelled_files_are_clear_errors()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => Cifar10.Load(_dir, train: false))!;
        Assert.That(missing.Message, Does.Contain("test_batch.bin").And.Contain("cifar-10-binary.tar.gz"));
        var path = Path.Combine(_dir, "test_batch.bin");
        File.WriteAllBytes(path, CifarRecords(2, 0)[..5000]);
        Assert.That(Assert.Throws<InvalidDataException>(() => Cifar10.Load(_dir, train: false))!.Message, Does.Contain("test_batch.bin").And.Contain("5000 bytes"));
        var bad = CifarRecords(2, 0);
        bad[Cifar10.RecordBytes] = 12;
        File.WriteAllBytes(path, bad);
        Assert.That(Assert.Throws<InvalidDataException>(() => Cifar10.Load(_dir, train: false))!.Message, Does.Contain("record 1 has label 12"));
    }

    // ---- CSV ----

    [Test]
    public void Csv_reads_a_header_numeric_columns_and_a_named_target()
    {
        var path = Path.Combine(_dir, "t.csv");
        File.WriteAllText(path, "a,label,b\n1.5,2,-3\n\n\"4\",0,5e-1\r\n");
        var (x, y) = Csv.Load(path, new CsvOptions { Header = true, TargetName = "label" });
        Assert.That(x.shape, Is.EqualTo(new long[] { 2, 2 }));
        Assert.That(x.data<float>().ToArray(), Is.EqualTo(new float[] { 1.5f, -3, 4, 0.5f }));
        Assert.That(y.dtype, Is.EqualTo(ScalarType.Int64));
        Assert.That(y.data<long>().ToArray(), Is.EqualTo(new long[] { 2, 0 }));
        var (x2, y2) = Csv.Load(path, new CsvOptions { Header = true, TargetColumn = 0, TargetType = ScalarType.Float32 });
        Assert.That(y2.data<float>().ToArray(), Is.EqualTo(new float[] { 1.5f, 4 }));
        Assert.That(x2.data<float>().ToArray(), Is.EqualTo(new float[] { 2, -3, 0, 0.5f }));
        var table = Csv.Read(path, new CsvOptions { Header = true });
        Assert.That(table.Columns, Is.EqualTo(new[] { "a", "label", "b" }));
        x.Dispose(); y.Dispose(); x2.Dispose(); y2.Dispose();
    }

    [Test]
    public void Csv_reads_whitespace_separated_gzip_without_a_header()
    {
        var path = Path.Combine(_dir, "t.csv.gz");
        WriteGzip(path, "1 2\t 3\n4  5 6\n"u8.ToArray());
        var table = Csv.Read(path, new CsvOptions { Separator = null });
        Assert.That(table.Columns, Is.EqualTo(new[] { "0", "1", "2" }));
        Assert.That(table.Rows, Is.EqualTo(new[] { new double[] { 1, 2, 3 }, [4, 5, 6] }));
    }

    [Test]
    public void Csv_bad_cells_rows_and_targets_name_the_file_line_and_column()
    {
        var path = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(path, "x,y\n1,2\n3,abc\n");
        var ex = Assert.Throws<InvalidDataException>(() => Csv.Read(path, new CsvOptions { Header = true }))!;
        Assert.That(ex.Message, Does.Contain("bad.csv").And.Contain("line 3, column 2 (y)").And.Contain("'abc'"));
        File.WriteAllText(path, "1,2\n3\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => Csv.Read(path))!.Message, Does.Contain("line 2 has 1 cells, expected 2"));
        File.WriteAllText(path, "1,2.5\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => Csv.Load(path))!.Message, Does.Contain("target 2.5").And.Contain("not a whole number"));
        Assert.That(Assert.Throws<ArgumentException>(() => Csv.Load(path, new CsvOptions { TargetColumn = 5 }))!.Message, Does.Contain("target column 5"));
        Assert.That(Assert.Throws<ArgumentException>(() => Csv.Load(path, new CsvOptions { Header = false, TargetName = "z" }))!.Message, Does.Contain("no column 'z'"));
        File.WriteAllText(path, "a,b\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => Csv.Read(path, new CsvOptions { Header = true }))!.Message, Does.Contain("no data rows"));
        Assert.Throws<FileNotFoundException>(() => Csv.Read(Path.Combine(_dir, "none.csv")));
    }

    // ---- scikit-learn's data sets ----

    [Test]
    public void Sklearn_missing_files_name_the_fetch_command()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => SklearnDatasets.LoadIris(_dir))!;
        Assert.That(ex.Message, Does.Contain("iris.csv").And.Contain("scripts/get-sklearn-data.sh"));
        File.WriteAllText(Path.Combine(_dir, "iris.csv"), "150,4,setosa,versicolor,virginica\n5.1,3.5,1.4,0.2,0\n");
        Assert.That(Assert.Throws<InvalidDataException>(() => SklearnDatasets.LoadIris(_dir))!.Message, Does.Contain("1 rows of 5 columns, expected 150 of 5").And.Contain("get-sklearn-data.sh"));
    }

    [Test]
    public void Sklearn_data_sets_have_scikit_learns_shapes_classes_and_values()
    {
        var folder = Fetched("sklearn", SklearnDatasets.Fetch, "iris.csv", "wine_data.csv", "breast_cancer.csv", "digits.csv.gz", "diabetes_data_raw.csv.gz", "diabetes_target.csv.gz");
        // Shapes and class counts as scikit-learn's documentation lists them.
        (string Name, Func<string?, TabularData> Load, long[] Shape, long[] Counts)[] sets =
        [
            ("iris", f => SklearnDatasets.LoadIris(f), [150, 4], [50, 50, 50]),
            ("wine", f => SklearnDatasets.LoadWine(f), [178, 13], [59, 71, 48]),
            ("breast cancer", f => SklearnDatasets.LoadBreastCancer(f), [569, 30], [212, 357]),
            ("digits", f => SklearnDatasets.LoadDigits(f), [1797, 64], [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]),
        ];
        foreach (var (name, load, shape, counts) in sets)
        {
            using var set = load(folder);
            Assert.That(set.Features.shape, Is.EqualTo(shape), name);
            Assert.That(set.Features.dtype, Is.EqualTo(ScalarType.Float32), name);
            Assert.That(set.Targets.dtype, Is.EqualTo(ScalarType.Int64), name);
            Assert.That(set.Targets.bincount(null).data<long>().ToArray(), Is.EqualTo(counts), name);
            Assert.That(set.TargetNames.Count, Is.EqualTo(counts.Length), name);
        }
        using (var iris = SklearnDatasets.LoadIris(folder))
        {
            Assert.That(iris.TargetNames, Is.EqualTo(new[] { "setosa", "versicolor", "virginica" }));
            Assert.That(iris.Features[0].data<float>().ToArray(), Is.EqualTo(new[] { 5.1f, 3.5f, 1.4f, 0.2f }));
            // Means per feature from the iris description: 5.843, 3.057, 3.758, 1.199 (rounded to 3 places).
            Assert.That(iris.Features.mean([0]).data<float>().ToArray(), Is.EqualTo(new[] { 5.843f, 3.057f, 3.758f, 1.199f }).Within(5e-4));
        }
        using (var digits = SklearnDatasets.LoadDigits(folder))
            Assert.That(digits.Features.max().item<float>(), Is.EqualTo(16f), "digits' pixels are 0-16");
        using (var diabetes = SklearnDatasets.LoadDiabetes(folder))
        {
            Assert.That(diabetes.Features.shape, Is.EqualTo(new long[] { 442, 10 }));
            Assert.That(diabetes.Targets.dtype, Is.EqualTo(ScalarType.Float32));
            Assert.That(diabetes.Targets[..3].data<float>().ToArray(), Is.EqualTo(new float[] { 151, 75, 141 }));
            // scikit-learn's load_diabetes().data[0] as its documentation prints it (8 places),
            // so 5e-9 plus float32's rounding of values below 0.07 (4e-9).
            Assert.That(diabetes.Features[0].data<float>().ToArray(), Is.EqualTo(new[]
                { 0.03807591f, 0.05068012f, 0.06169621f, 0.02187239f, -0.0442235f, -0.03482076f, -0.04340085f, -0.00259226f, 0.01990749f, -0.01764613f }).Within(1e-8));
            // Each column has sum of squares 1 (the documented scaling); float32 sums of 442 terms.
            Assert.That(diabetes.Features.to(ScalarType.Float64).square().sum([0]).data<double>().ToArray(), Is.All.EqualTo(1.0).Within(1e-6));
        }
        using (var raw = SklearnDatasets.LoadDiabetes(folder, scaled: false))
            Assert.That(raw.Features[0, ..3].data<float>().ToArray(), Is.EqualTo(new[] { 59f, 2f, 32.1f }), "scaled: false gives the raw age, sex, bmi");
    }

    [Test]
    public void Mnist_default_folder_is_the_data_cache()
    {
        if (!File.Exists(Path.Combine(DataCache.Folder("mnist"), "t10k-labels-idx1-ubyte")))
            Assert.Ignore($"{DataCache.Folder("mnist")} lacks the files; run {Mnist.Fetch}");
        using var test = Mnist.Load(train: false);
        Assert.That(test.Count, Is.EqualTo(10000));
    }

    [Test]
    public void Data_cache_is_overridden_by_ENGINE_DATA()
    {
        var before = Environment.GetEnvironmentVariable(DataCache.Variable);
        try
        {
            Environment.SetEnvironmentVariable(DataCache.Variable, _dir);
            Assert.That(DataCache.Folder("fashion-mnist"), Is.EqualTo(Path.Combine(_dir, "fashion-mnist")));
            var ex = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load())!;
            Assert.That(ex.Message, Does.Contain(Path.Combine(_dir, "fashion-mnist")));
        }
        finally
        {
            Environment.SetEnvironmentVariable(DataCache.Variable, before);
        }
        Assert.That(DataCache.Root, Does.EndWith("data"));
    }
}
