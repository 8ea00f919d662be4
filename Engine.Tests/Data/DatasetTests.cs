using System.Text.Json;
using Engine.Data;

namespace Engine.Tests.Data;

/// <summary>TensorDataset, Subset and Dataset.RandomSplit: batches by index tensors, and the split
/// indices against Python PyTorch 1.13's random_split (scripts/fixtures/make_random_split_fixture.py).</summary>
public class DatasetTests
{
    static (Tensor X, Tensor Y) Indexed(long n)
    {
        var y = arange(n, ScalarType.Int64);
        return (stack([y.to(ScalarType.Float32), y.to(ScalarType.Float32).neg()], 1), y);
    }

    [Test]
    public void TensorDataset_batch_is_the_rows_at_the_indices()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(10);
        var dataset = new TensorDataset(x, y);
        var (bx, by) = dataset.GetBatch(tensor(new long[] { 7, 2, 2, 9 }));
        Assert.That(dataset.Count, Is.EqualTo(10));
        Assert.That(by.data<long>().ToArray(), Is.EqualTo(new long[] { 7, 2, 2, 9 }));
        Assert.That(bx.data<float>().ToArray(), Is.EqualTo(new float[] { 7, -7, 2, -2, 2, -2, 9, -9 }));
    }

    [Test]
    public void Subset_maps_its_indices_into_the_data_set()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(10);
        var subset = new Subset(new TensorDataset(x, y), [9, 4, 0]);
        Assert.That(subset.Count, Is.EqualTo(3));
        var (_, by) = subset.GetBatch(tensor(new long[] { 2, 0 }));
        Assert.That(by.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 9 }));
        // A loader over a subset, unshuffled, visits the subset's samples in its order.
        var loader = new DataLoader(subset, batchSize: 2, shuffle: false);
        var seen = loader.SelectMany(b => b.Target.data<long>().ToArray()).ToList();
        Assert.That(seen, Is.EqualTo(new long[] { 9, 4, 0 }));
    }

    [Test]
    public void RandomSplit_indices_match_python_pytorch_random_split_with_the_same_seed()
    {
        using var scope = NewDisposeScope();
        var fixture = JsonDocument.Parse(File.ReadAllBytes(TestSetup.FixturePath("random_split.json"))).RootElement;
        foreach (var c in fixture.GetProperty("cases").EnumerateArray())
        {
            long n = c.GetProperty("n").GetInt64();
            ulong seed = (ulong)c.GetProperty("seed").GetInt64();
            var lengths = c.GetProperty("lengths").EnumerateArray().ToList();
            var (x, y) = Indexed(n);
            var dataset = new TensorDataset(x, y);
            using var generator = new Generator(seed);
            bool fractions = lengths.Any(l => l.GetRawText().Contains('.'));
            var subsets = fractions
                ? Dataset.RandomSplit(dataset, lengths.Select(l => l.GetDouble()).ToArray(), generator)
                : Dataset.RandomSplit(dataset, lengths.Select(l => l.GetInt64()).ToArray(), generator);
            var want = c.GetProperty("subsets").EnumerateArray().Select(s => s.EnumerateArray().Select(e => e.GetInt64()).ToArray()).ToArray();
            Assert.That(subsets.Select(s => s.Indices).ToArray(), Is.EqualTo(want), $"n={n} lengths={string.Join(",", lengths)} seed={seed}");
            // The generator moved on exactly as PyTorch's did.
            var after = randperm(5, ScalarType.Int64, CPU, generator: generator).data<long>().ToArray();
            Assert.That(after, Is.EqualTo(c.GetProperty("after").EnumerateArray().Select(e => e.GetInt64()).ToArray()), $"n={n}: generator state after the split");
        }
    }

    [Test]
    public void RandomSplit_subsets_partition_the_data_set()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(103);
        using var generator = new Generator(5);
        var parts = Dataset.RandomSplit(new TensorDataset(x, y), [0.8, 0.1, 0.1], generator);
        Assert.That(parts.Select(p => p.Count), Is.EqualTo(new long[] { 83, 10, 10 }), "floor(103·f) = 82, 10, 10, remainder 1 to the first");
        Assert.That(parts.SelectMany(p => p.Indices).Order(), Is.EqualTo(Enumerable.Range(0, 103).Select(i => (long)i)));
    }

    [TestCase(new long[] { 5, 4 }, "sum to 9, the data set has 10 samples")]
    [TestCase(new long[] { 11, -1 }, "negative")]
    [TestCase(new long[0], "no lengths")]
    public void RandomSplit_lengths_that_do_not_sum_to_n_are_an_error(long[] lengths, string message)
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(10);
        using var generator = new Generator(0);
        var ex = Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(new TensorDataset(x, y), lengths, generator))!;
        Assert.That(ex.Message, Does.Contain("RandomSplit").And.Contain(message));
    }

    [TestCase(new[] { 0.8, 0.3 }, "sum to 1.1")]
    [TestCase(new[] { 0.5, 0.4 }, "sum to 0.9")]
    [TestCase(new[] { 1.5, -0.5 }, "1.5 is not in [0, 1]")]
    [TestCase(new[] { double.NaN, 1.0 }, "NaN is not in [0, 1]")]
    public void RandomSplit_fractions_that_do_not_sum_to_one_are_an_error(double[] fractions, string message)
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(10);
        using var generator = new Generator(0);
        var ex = Assert.Throws<ArgumentException>(() => Dataset.RandomSplit(new TensorDataset(x, y), fractions, generator))!;
        Assert.That(ex.Message, Does.Contain("RandomSplit").And.Contain(message));
    }

    [Test]
    public void Inputs_and_targets_of_different_counts_are_an_error()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => new TensorDataset(zeros(5, 3), zeros(4, ScalarType.Int64)))!;
        Assert.That(ex.Message, Does.Contain("TensorDataset").And.Contain("[5, 3]").And.Contain("[4]"));
    }

    [Test]
    public void Subset_indices_outside_the_data_set_are_an_error()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(4);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Subset(new TensorDataset(x, y), [0, 4]))!;
        Assert.That(ex.Message, Does.Contain("index 1 is 4, outside [0, 4)"));
    }

    [Test]
    public void GetBatch_with_a_non_int64_index_is_an_error()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(4);
        var ex = Assert.Throws<ArgumentException>(() => new TensorDataset(x, y).GetBatch(tensor(new[] { 0, 1 })))!;
        Assert.That(ex.Message, Does.Contain("int64 [B]").And.Contain("Int32"));
    }

    [Test]
    public void Loader_over_an_empty_data_set_or_with_batch_size_zero_is_an_error()
    {
        using var scope = NewDisposeScope();
        var empty = new TensorDataset(zeros(0, 3), zeros(0, ScalarType.Int64));
        var ex = Assert.Throws<ArgumentException>(() => new DataLoader(empty, batchSize: 4))!;
        Assert.That(ex.Message, Does.Contain("DataLoader").And.Contain("0 samples"));
        var (x, y) = Indexed(4);
        var zero = Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(new TensorDataset(x, y), batchSize: 0))!;
        Assert.That(zero.Message, Does.Contain("batch size must be positive").And.Contain("0"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(new TensorDataset(x, y), 2, options: new DataLoaderOptions { Workers = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(new TensorDataset(x, y), 2, options: new DataLoaderOptions { Workers = 1, PrefetchFactor = 0 }));
    }
}
