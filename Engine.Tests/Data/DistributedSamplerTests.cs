using System.Text.Json;
using Engine.Data;

namespace Engine.Tests.Data;

/// <summary>DistributedSampler: every rank's indices, epoch by epoch, against Python PyTorch
/// 1.13's torch.utils.data.DistributedSampler (scripts/fixtures/make_distributed_sampler_fixture.py);
/// the ranks' shards against the definition (together they cover the data set); and a DataLoader
/// given the sampler: its batches are the sampler's rows in PyTorch's order, resume mid-epoch
/// exactly, and are the same with workers.</summary>
public class DistributedSamplerTests
{
    static long[] Longs(JsonElement e) => e.EnumerateArray().Select(i => i.GetInt64()).ToArray();

    static long[] Values(Tensor t) => t.data<long>().ToArray();

    static JsonElement Fixture() =>
        JsonDocument.Parse(File.ReadAllBytes(TestSetup.FixturePath("distributed_sampler.json"))).RootElement;

    static DistributedSampler Sampler(JsonElement c, int rank) => new(
        c.GetProperty("n").GetInt64(), c.GetProperty("replicas").GetInt32(), rank,
        c.GetProperty("shuffle").GetBoolean(), c.GetProperty("seed").GetInt64(), c.GetProperty("drop_last").GetBoolean());

    static string Name(JsonElement c) =>
        $"n={c.GetProperty("n")} replicas={c.GetProperty("replicas")} shuffle={c.GetProperty("shuffle")} drop_last={c.GetProperty("drop_last")} seed={c.GetProperty("seed")}";

    [Test]
    public void Indices_match_python_pytorch_distributed_sampler_for_every_rank_and_epoch()
    {
        var cases = Fixture().GetProperty("cases").EnumerateArray().ToList();
        Assert.That(cases, Has.Count.GreaterThanOrEqualTo(79));
        foreach (var c in cases)
        {
            int replicas = c.GetProperty("replicas").GetInt32();
            var epochs = c.GetProperty("indices").EnumerateArray().ToList();
            for (int rank = 0; rank < replicas; rank++)
            {
                var sampler = Sampler(c, rank);
                Assert.That(sampler.NumSamples, Is.EqualTo(c.GetProperty("num_samples").GetInt64()), Name(c));
                Assert.That(sampler.TotalSize, Is.EqualTo(c.GetProperty("total_size").GetInt64()), Name(c));
                Assert.That(sampler.Length, Is.EqualTo(sampler.NumSamples));
                for (int epoch = 0; epoch < epochs.Count; epoch++)
                {
                    using var indices = sampler.Indices(epoch);
                    Assert.That(indices.dtype, Is.EqualTo(ScalarType.Int64));
                    Assert.That(indices.device.type, Is.EqualTo(DeviceType.CPU));
                    Assert.That(Values(indices), Is.EqualTo(Longs(epochs[epoch][rank])), $"{Name(c)} rank {rank} epoch {epoch}");
                }
            }
        }
    }

    /// <summary>Reference: the definition. Without drop_last the shards together hold every sample,
    /// the first total − N of the epoch's order twice; with it they are disjoint and hold
    /// floor(N / R) × R samples. Shuffled epochs differ, and every rank changes order with the epoch.</summary>
    [TestCase(10L, 3)]
    [TestCase(11L, 4)]
    [TestCase(7L, 7)]
    [TestCase(3L, 5)]
    [TestCase(1000L, 8)]
    public void Ranks_together_cover_the_data_set_every_epoch(long n, int replicas)
    {
        for (long epoch = 0; epoch < 3; epoch++)
        {
            var all = new List<long>();
            var kept = new List<long>();
            for (int rank = 0; rank < replicas; rank++)
            {
                using var padded = new DistributedSampler(n, replicas, rank, seed: 5).Indices(epoch);
                using var dropped = new DistributedSampler(n, replicas, rank, seed: 5, dropLast: true).Indices(epoch);
                all.AddRange(Values(padded));
                kept.AddRange(Values(dropped));
            }
            long total = (n + replicas - 1) / replicas * replicas;
            Assert.That(all, Has.Count.EqualTo(total));
            Assert.That(all.Distinct().OrderBy(i => i), Is.EqualTo(Enumerable.Range(0, (int)n).Select(i => (long)i)), $"epoch {epoch}: every sample on some rank");
            Assert.That(all.Count - all.Distinct().Count(), Is.EqualTo(total - n), "only the padding repeats");
            Assert.That(kept, Has.Count.EqualTo(n / replicas * replicas));
            Assert.That(kept.Distinct().Count(), Is.EqualTo(kept.Count), "drop_last shards are disjoint");
        }
        using var e0 = new DistributedSampler(n, replicas, 0, seed: 5).Indices(0);
        using var e1 = new DistributedSampler(n, replicas, 0, seed: 5).Indices(1);
        if (n >= 100) Assert.That(Values(e1), Is.Not.EqualTo(Values(e0)), "a new order every epoch");
    }

    /// <summary>Samples 0..n-1 as inputs [n, 2] (i, -i) and targets [n] (i): a batch's targets
    /// name its rows, and the inputs check the pairing.</summary>
    static (Tensor X, Tensor Y) Indexed(long n)
    {
        var y = arange(n, ScalarType.Int64);
        return (stack([y.to(ScalarType.Float32), y.to(ScalarType.Float32).neg()], 1), y);
    }

    /// <summary>Each batch's targets, checking that its inputs are the same rows.</summary>
    static List<long[]> Batches(DataLoader loader, int epochs, Func<int, long, bool>? stopAt = null)
    {
        var batches = new List<long[]>();
        for (int e = 0; e < epochs; e++)
        {
            long b = 0;
            foreach (var (x, y) in loader)
            {
                var ys = Values(y);
                var xs = x.data<float>().ToArray();
                for (int i = 0; i < ys.Length; i++)
                    Assert.That((xs[2 * i], xs[2 * i + 1]), Is.EqualTo(((float)ys[i], -(float)ys[i])), "input row paired with its target");
                batches.Add(ys);
                if (stopAt?.Invoke(e, b++) == true) return batches;
            }
        }
        return batches;
    }

    /// <summary>Reference: PyTorch's indices for this rank (the fixture), cut into batches of 4
    /// (the last one 1 or 3 rows, or dropped), epoch after epoch without any set_epoch call.</summary>
    [TestCase(false, 0, TestName = "DataLoader with the sampler yields PyTorch's rows for each rank in order")]
    [TestCase(true, 0, TestName = "DataLoader with the sampler and dropLast yields PyTorch's rows in whole batches")]
    [TestCase(false, 2, TestName = "DataLoader with the sampler yields PyTorch's rows for each rank in order, with workers")]
    public void DataLoader_yields_the_samplers_rows_in_order(bool dropLast, int workers)
    {
        using var scope = NewDisposeScope();
        var c = Fixture().GetProperty("cases").EnumerateArray().Single(k =>
            k.GetProperty("n").GetInt64() == 11 && k.GetProperty("replicas").GetInt32() == 2 && k.GetProperty("shuffle").GetBoolean()
            && !k.GetProperty("drop_last").GetBoolean() && k.GetProperty("seed").GetInt64() == 42);
        var (x, y) = Indexed(11);
        var epochs = c.GetProperty("indices").EnumerateArray().ToList();
        for (int rank = 0; rank < 2; rank++)
        {
            var sampler = Sampler(c, rank); // 6 indices per epoch
            var loader = new DataLoader(new TensorDataset(x, y), 4, shuffle: false, dropLast: dropLast,
                options: new DataLoaderOptions { Sampler = sampler, Workers = workers });
            Assert.That(loader.SamplesPerEpoch, Is.EqualTo(6));
            Assert.That(loader.Batches, Is.EqualTo(dropLast ? 1 : 2));
            var batches = Batches(loader, epochs.Count);
            Assert.That(batches, Has.Count.EqualTo(loader.Batches * epochs.Count));
            for (int e = 0; e < epochs.Count; e++)
            {
                var want = Longs(epochs[e][rank]);
                var got = batches.Skip(e * (int)loader.Batches).Take((int)loader.Batches).ToList();
                Assert.That(got[0], Is.EqualTo(want[..4]), $"rank {rank} epoch {e}");
                if (!dropLast) Assert.That(got[1], Is.EqualTo(want[4..]), $"rank {rank} epoch {e}, the last, smaller batch");
            }
        }
    }

    [TestCase(0, TestName = "DataLoader with the sampler resumes mid-epoch with the uninterrupted batches")]
    [TestCase(2, TestName = "DataLoader with the sampler resumes mid-epoch with the uninterrupted batches, with workers")]
    public void Resume_mid_epoch(int workers)
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(50);
        DataLoader Loader() => new(x, y, 3, shuffle: false,
            options: new DataLoaderOptions { Sampler = new DistributedSampler(50, 3, 2, seed: 11), Workers = workers });
        var all = Batches(Loader(), 4); // 17 samples, 6 batches an epoch
        Assert.That(all, Has.Count.EqualTo(24));

        foreach (var (stopEpoch, stopBatch) in new[] { (0, 0L), (1, 2L), (2, 5L), (3, 3L) })
        {
            var first = Loader();
            DataLoaderState? saved = null;
            var seen = Batches(first, 4, (e, b) =>
            {
                if (e == stopEpoch && b == stopBatch) { saved = first.State; return true; }
                return false;
            });
            Assert.That((saved!.Epoch, saved.Batch), Is.EqualTo(((long)stopEpoch, stopBatch + 1)));
            Assert.That(saved.GeneratorState, Is.Null, "the sampler's order needs no generator state");

            var resumed = Loader(); // a new process: fresh loader and sampler, state restored
            resumed.Restore(saved);
            var rest = Batches(resumed, 4 - stopEpoch);
            Assert.That(seen.Concat(rest).ToList(), Is.EqualTo(all), $"stopped at epoch {stopEpoch} batch {stopBatch}");
        }
    }

    [Test]
    public void Workers_give_the_same_batches_as_the_consumer_thread()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(37);
        List<long[]> Run(int workers) => Batches(new DataLoader(x, y, 5, shuffle: false,
            options: new DataLoaderOptions { Sampler = new DistributedSampler(37, 2, 1, seed: 3), Workers = workers, PrefetchFactor = 2 }), 3);
        var inline = Run(0);
        Assert.That(inline, Has.Count.EqualTo(12)); // 19 samples: 4 batches an epoch
        Assert.That(Run(2), Is.EqualTo(inline));
    }

    [Test]
    public void Bad_inputs_raise_clear_errors()
    {
        var rank = Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 4, 4))!;
        Assert.That(rank.Message, Does.Contain("rank 4").And.Contain("[0, 3]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 4, -1));
        var replicas = Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 0, 0))!;
        Assert.That(replicas.Message, Does.Contain("replicas"));
        var empty = Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(0, 2, 0))!;
        Assert.That(empty.Message, Does.Contain("no samples"));

        using var scope = NewDisposeScope();
        var (x, y) = Indexed(10);
        var sampler = new DistributedSampler(10, 2, 0);
        var shuffled = Assert.Throws<ArgumentException>(() => new DataLoader(x, y, 2, options: new DataLoaderOptions { Sampler = sampler }))!;
        Assert.That(shuffled.Message, Does.Contain("mutually exclusive with shuffle").And.Contain("shuffle: false"));
        // drop_last with fewer samples than replicas leaves every rank without samples (as PyTorch).
        var none = new DistributedSampler(3, 4, 1, dropLast: true);
        Assert.That(none.NumSamples, Is.Zero);
        using (var noIndices = none.Indices(0)) Assert.That(noIndices.shape, Is.EqualTo(new long[] { 0 }));
        var noSamples = Assert.Throws<ArgumentException>(() => new DataLoader(x, y, 2, shuffle: false, options: new DataLoaderOptions { Sampler = none }))!;
        Assert.That(noSamples.Message, Does.Contain("0 samples per epoch"));

        // A sampler that breaks its contract is caught before the gather.
        var outOfRange = new DataLoader(x, y, 2, shuffle: false, options: new DataLoaderOptions { Sampler = new FixedSampler([3, 10]) });
        var range = Assert.Throws<InvalidOperationException>(() => Batches(outOfRange, 1))!;
        Assert.That(range.Message, Does.Contain("[3, 10]").And.Contain("[0, 9]"));
        var wrongLength = new DataLoader(x, y, 2, shuffle: false, options: new DataLoaderOptions { Sampler = new FixedSampler([1, 2], length: 3) });
        var length = Assert.Throws<InvalidOperationException>(() => Batches(wrongLength, 1))!;
        Assert.That(length.Message, Does.Contain("[2]").And.Contain("Int64 [3]"));
    }

    /// <summary>The same indices every epoch, claiming a length of its choice.</summary>
    sealed class FixedSampler(long[] indices, long? length = null) : IIndexSampler
    {
        public long Length => length ?? indices.Length;
        public Tensor Indices(long epoch) => tensor(indices);
    }
}
