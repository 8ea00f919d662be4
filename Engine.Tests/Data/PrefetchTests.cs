using Engine.Data;
using Engine.Regularization;

namespace Engine.Tests.Data;

/// <summary>Background workers: the same batches as without workers (the reference: the loader's
/// own consumer-thread path, itself checked against PyTorch's orders in DataLoaderTests), every
/// tensor made on a worker disposed, and a worker's error surfacing on the consumer's thread.
/// Pinned memory and the non_blocking copy need CUDA: not exercised on a CPU-only machine.</summary>
public class PrefetchTests
{
    static List<(float[] X, long[] Y)> Run(Tensor x, Tensor y, int workers, int prefetch, int epochs, bool augment)
    {
        using var generator = new Generator(11);
        using var augmentation = new ImageAugmentation(new AugmentationOptions { HorizontalFlip = 0.5, CropPadding = 1, Erasing = 0.5 }, seed: 5);
        using var normalize = new Normalize([0.5], [0.25]);
        var loader = new DataLoader(x, y, batchSize: 7, generator: generator, options: new DataLoaderOptions
        {
            Workers = workers,
            PrefetchFactor = prefetch,
            Augmentation = augment ? BatchTransform.Input(augmentation) : null,
            Transform = normalize,
        });
        var batches = new List<(float[], long[])>();
        for (int e = 0; e < epochs; e++)
            foreach (var (bx, by) in loader)
            {
                using var step = NewDisposeScope();
                batches.Add((bx.data<float>().ToArray(), by.data<long>().ToArray()));
                bx.sum().item<float>(); // a little work on the consumer's side
            }
        return batches;
    }

    [TestCase(1, 1)]
    [TestCase(1, 3)]
    [TestCase(2, 2)]
    [TestCase(3, 1)]
    public void Workers_give_exactly_the_batches_of_the_consumer_thread(int workers, int prefetch)
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var x = rand(50, 1, 6, 6);
        var y = arange(50, ScalarType.Int64);
        var reference = Run(x, y, 0, 2, 3, augment: true);
        var prefetched = Run(x, y, workers, prefetch, 3, augment: true);
        Assert.That(prefetched.Count, Is.EqualTo(3 * 8));
        for (int i = 0; i < reference.Count; i++)
        {
            Assert.That(prefetched[i].Y, Is.EqualTo(reference[i].Y), $"batch {i} targets");
            Assert.That(prefetched[i].X, Is.EqualTo(reference[i].X), $"batch {i} inputs, bit for bit");
        }
    }

    [Test]
    public void Every_tensor_made_on_a_worker_is_disposed_and_none_leaks()
    {
        // Tensor.TotalCount counts live tensor wrappers in the whole process (all threads), so it
        // sees what the workers made; GC first so that finalizers of earlier tests do not move it.
        var x = rand(64, 1, 6, 6);
        var y = arange(64, ScalarType.Int64);
        var made = new List<Tensor>();
        var transform = BatchTransform.Input(t => { var r = t.mul(2); lock (made) made.Add(r); return r; });
        using var generator = new Generator(1);
        var loader = new DataLoader(x, y, batchSize: 5, generator: generator,
            options: new DataLoaderOptions { Workers = 2, PrefetchFactor = 3, Transform = transform });
        void Epochs(int n, bool abandon)
        {
            for (int e = 0; e < n; e++)
                foreach (var (bx, by) in loader)
                {
                    using var step = NewDisposeScope();
                    bx.sum().add(by.sum()).Dispose();
                }
            if (abandon)
                foreach (var (bx, _) in loader) break; // workers hold batches ahead when this breaks
        }
        Epochs(1, abandon: true); // warm-up
        Collect();
        long before = Tensor.TotalCount;
        for (int round = 0; round < 5; round++) Epochs(2, abandon: true);
        Collect();
        Assert.That(Tensor.TotalCount, Is.EqualTo(before), "live tensors after 10 epochs and 5 abandoned ones");
        lock (made) Assert.That(made.All(t => t.IsInvalid), $"all {made.Count} transform outputs made on workers were disposed");
        Assert.That(x.IsInvalid || y.IsInvalid, Is.False);
        x.Dispose();
        y.Dispose();
    }

    static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    [Test]
    public void Kept_batches_from_workers_belong_to_the_consumers_scope()
    {
        var x = rand(20, 3);
        var y = arange(20, ScalarType.Int64);
        var loader = new DataLoader(x, y, 6, shuffle: false, disposeBatches: false, options: new DataLoaderOptions { Workers = 2 });
        var kept = new List<Tensor>();
        using (NewDisposeScope())
        {
            foreach (var (bx, by) in loader) { kept.Add(bx); kept.Add(by); }
            Assert.That(kept.All(t => !t.IsInvalid));
        }
        Assert.That(kept.All(t => t.IsInvalid), "the consumer's scope disposed what the workers made");
        x.Dispose();
        y.Dispose();
    }

    [Test]
    public void A_workers_error_surfaces_on_the_consumers_thread_with_its_type()
    {
        using var scope = NewDisposeScope();
        var x = rand(20, 3);
        var y = arange(20, ScalarType.Int64);
        var transform = BatchTransform.Input(t => t.shape[0] == 2 ? throw new ArgumentException("bad last batch") : t.alias());
        foreach (int workers in new[] { 0, 2 })
        {
            var loader = new DataLoader(x, y, 6, shuffle: false, options: new DataLoaderOptions { Workers = workers, Transform = transform });
            int seen = 0;
            var ex = Assert.Throws<ArgumentException>(() => { foreach (var _ in loader) seen++; })!;
            Assert.That(ex.Message, Is.EqualTo("bad last batch"));
            Assert.That(seen, Is.EqualTo(3), $"{workers} workers: the three good batches come first");
        }
    }
}
