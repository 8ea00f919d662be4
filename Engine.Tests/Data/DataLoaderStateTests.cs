using Engine.Data;

namespace Engine.Tests.Data;

/// <summary>Exact resume: a loader restored from a saved position yields the batches an
/// uninterrupted loader yields from there on (the reference: that uninterrupted loader).</summary>
public class DataLoaderStateTests
{
    static (Tensor X, Tensor Y) Indexed(long n)
    {
        var y = arange(n, ScalarType.Int64);
        return (y.to(ScalarType.Float32).unsqueeze(1), y);
    }

    static List<long[]> Draw(DataLoader loader, int epochs, Func<int, long, bool>? stopAt = null)
    {
        var batches = new List<long[]>();
        for (int e = 0; e < epochs; e++)
        {
            long b = 0;
            foreach (var (_, y) in loader)
            {
                batches.Add(y.data<long>().ToArray());
                if (stopAt?.Invoke(e, b++) == true) return batches;
            }
        }
        return batches;
    }

    [TestCase(0, TestName = "Resume mid-epoch continues with the uninterrupted batches")]
    [TestCase(2, TestName = "Resume mid-epoch continues with the uninterrupted batches, with workers")]
    public void Resume_mid_epoch(int workers)
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(23);
        var options = new DataLoaderOptions { Workers = workers };
        using var g0 = new Generator(42);
        var all = Draw(new DataLoader(x, y, 4, generator: g0, options: options), 4); // 6 batches an epoch

        foreach (var (stopEpoch, stopBatch) in new[] { (0, 0L), (1, 2L), (2, 5L), (3, 4L) })
        {
            using var g1 = new Generator(42);
            var first = new DataLoader(x, y, 4, generator: g1, options: options);
            DataLoaderState? saved = null;
            var seen = Draw(first, 4, (e, b) =>
            {
                if (e == stopEpoch && b == stopBatch) { saved = first.State; return true; }
                return false;
            });
            Assert.That(saved!.Epoch, Is.EqualTo(stopEpoch));
            Assert.That(saved.Batch, Is.EqualTo(stopBatch + 1), "batches handed out in the epoch");

            // A new process: fresh generator with another seed, state restored.
            using var g2 = new Generator(999);
            var resumed = new DataLoader(x, y, 4, generator: g2, options: options);
            resumed.Restore(saved);
            var rest = Draw(resumed, 4 - stopEpoch);
            Assert.That(seen.Concat(rest).ToList(), Is.EqualTo(all), $"stopped at epoch {stopEpoch} batch {stopBatch}");
        }
    }

    /// <summary>With a seeded ImageAugmentation (its own generator) and workers that augment
    /// ahead of the consumer, a resumed loader (fresh augmentation, other seed) yields exactly the
    /// uninterrupted run's augmented images; an epoch left early does not shift the next one.</summary>
    [TestCase(0, TestName = "Resume with a random augmentation repeats its draws")]
    [TestCase(2, TestName = "Resume with a random augmentation repeats its draws, with workers ahead")]
    public void Resume_with_augmentation(int workers)
    {
        using var scope = NewDisposeScope();
        var g = new Generator(5);
        var x = rand(new long[] { 22, 1, 6, 6 }, generator: g);
        var y = arange(22L);
        DataLoader Loader(ulong seed, ulong augmentationSeed, int? workerCount = null) => new(x, y, 4, generator: new Generator(seed),
            options: new DataLoaderOptions
            {
                Workers = workerCount ?? workers, PrefetchFactor = 3,
                Augmentation = BatchTransform.Input(new Engine.Regularization.ImageAugmentation(
                    new Engine.Regularization.AugmentationOptions { HorizontalFlip = 0.5, CropPadding = 2, Erasing = 0.5 }, augmentationSeed)),
            });
        static List<float[]> Images(DataLoader loader, int epochs, Func<int, long, bool>? stopAt = null)
        {
            var images = new List<float[]>();
            for (int e = 0; e < epochs; e++)
            {
                long b = 0;
                foreach (var (bx, _) in loader)
                {
                    images.Add(bx.data<float>().ToArray());
                    if (stopAt?.Invoke(e, b++) == true) return images;
                }
            }
            return images;
        }
        var all = Images(Loader(42, 7), 3);

        foreach (var (stopEpoch, stopBatch) in new[] { (0, 0L), (1, 2L), (2, 4L) })
        {
            var first = Loader(42, 7);
            DataLoaderState? saved = null;
            var seen = Images(first, 3, (e, b) =>
            {
                if (e == stopEpoch && b == stopBatch) { saved = first.State; return true; }
                return false;
            });
            Assert.That(saved!.AugmentationStates, Has.Length.EqualTo(1));
            var resumed = Loader(999, 1000);
            resumed.Restore(saved);
            Assert.That(seen.Concat(Images(resumed, 3 - stopEpoch)).ToList(), Is.EqualTo(all), $"stopped at epoch {stopEpoch} batch {stopBatch}");
        }

        // Leaving an epoch early (workers have augmented ahead) and going on in the same loader
        // gives the batches of a loader that never prefetched.
        var left = Loader(42, 7);
        var continued = Images(left, 1, (_, b) => b == 1).Concat(Images(left, 2)).ToList();
        var reference = Loader(42, 7, workerCount: 0);
        var expected = Images(reference, 1, (_, b) => b == 1).Concat(Images(reference, 2)).ToList();
        Assert.That(continued, Is.EqualTo(expected));
    }

    [Test]
    public void State_between_epochs_resumes_at_the_next_epoch()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(10);
        using var g0 = new Generator(3);
        var all = Draw(new DataLoader(x, y, 3, generator: g0), 3);
        using var g1 = new Generator(3);
        var first = new DataLoader(x, y, 3, generator: g1);
        var seen = Draw(first, 1);
        var state = first.State;
        Assert.That((state.Epoch, state.Batch), Is.EqualTo((1L, 0L)));
        using var g2 = new Generator(0);
        var resumed = new DataLoader(x, y, 3, generator: g2);
        resumed.Restore(state);
        Assert.That(seen.Concat(Draw(resumed, 2)).ToList(), Is.EqualTo(all));
        Assert.That(resumed.State.Epoch, Is.EqualTo(3));
    }

    [Test]
    public void Unshuffled_loader_resumes_without_a_generator()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(10);
        var loader = new DataLoader(x, y, 3, shuffle: false);
        var state = new DataLoaderState(0, 2, null);
        loader.Restore(state);
        Assert.That(Draw(loader, 1), Is.EqualTo(new[] { new long[] { 6, 7, 8 }, [9] }));
    }

    [Test]
    public void Bad_states_are_clear_errors_before_libtorch_sees_them()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Indexed(10);
        using var generator = new Generator(1);
        var loader = new DataLoader(x, y, 3, generator: generator);
        var good = loader.State;
        Assert.That(good.GeneratorState!.Length, Is.GreaterThan(0));
        // Generator.set_state with the wrong size aborts the process (DESIGN.md, "Errors").
        var ex = Assert.Throws<ArgumentException>(() => loader.Restore(good with { GeneratorState = new byte[10] }))!;
        Assert.That(ex.Message, Does.Contain("10 bytes").And.Contain($"{good.GeneratorState.Length}"));
        Assert.That(Assert.Throws<ArgumentException>(() => loader.Restore(good with { Batch = 5 }))!.Message, Does.Contain("batch 5").And.Contain("[0, 4]"));
        Assert.That(Assert.Throws<ArgumentException>(() => loader.Restore(good with { GeneratorState = null }))!.Message, Does.Contain("no generator state"));
        var unseeded = new DataLoader(x, y, 3);
        Assert.That(Assert.Throws<ArgumentException>(() => unseeded.Restore(new DataLoaderState(0, 1, null)))!.Message, Does.Contain("give it a Generator"));
        Assert.That(Assert.Throws<ArgumentException>(() => unseeded.Restore(good))!.Message, Does.Contain("no generator"));
        foreach (var _ in loader)
        {
            Assert.Throws<InvalidOperationException>(() => loader.Restore(good), "restore during an epoch");
            Assert.Throws<InvalidOperationException>(() => { using var e = loader.GetEnumerator(); e.MoveNext(); }, "two epochs at once");
            break;
        }
    }
}
