using Engine.Data;
using Engine.Regularization;

namespace Engine.Tests.Data;

/// <summary>Batch transforms: Normalize and StandardScaler against float64 formulas written here,
/// and how the loader runs transforms (augmentation only while training, on the batch's device).</summary>
public class TransformTests
{
    [Test]
    public void Normalize_matches_the_per_channel_formula_in_float64()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var x = rand(4, 3, 5, 5);
        double[] mean = [0.4914, 0.4822, 0.4465], std = [0.2470, 0.2435, 0.2616];
        using var normalize = new Normalize(mean, std);
        var got = normalize.Forward(x).data<float>().ToArray();
        var xs = x.data<float>().ToArray();
        for (int i = 0; i < xs.Length; i++)
        {
            int c = i / 25 % 3;
            double want = (xs[i] - mean[c]) / std[c];
            // float32 subtract and divide: two roundings of values below 4 in magnitude, so a few
            // ulps of 4 (2.4e-7 each) bound the difference on any CPU.
            Assert.That(got[i], Is.EqualTo(want).Within(2e-6), $"element {i}, channel {c}");
        }
    }

    [Test]
    public void Normalize_bad_arguments_are_clear_errors()
    {
        using var scope = NewDisposeScope();
        Assert.That(Assert.Throws<ArgumentException>(() => new Normalize([0.5, 0.5], [0.2]))!.Message, Does.Contain("mean has 2 channels, std 1"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Normalize([0.5], [0.0]))!.Message, Does.Contain("std must be positive"));
        using var normalize = new Normalize([0.5, 0.5, 0.5], [0.2, 0.2, 0.2]);
        Assert.That(Assert.Throws<ArgumentException>(() => normalize.Forward(zeros(2, 1, 4, 4)))!.Message, Does.Contain("[2, 1, 4, 4]").And.Contain("= 3"));
        Assert.That(Assert.Throws<ArgumentException>(() => normalize.Forward(zeros([2, 3, 4, 4], ScalarType.Byte)))!.Message, Does.Contain("Byte"));
    }

    [Test]
    public void StandardScaler_fits_on_train_and_applies_the_same_statistics_to_validation()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var train = randn(50, 4).mul(tensor(new float[] { 1, 10, 0.1f, 0 })).add(tensor(new float[] { 5, -3, 0, 7 }));
        var val = randn(20, 4);
        using var scaler = StandardScaler.Fit(train);
        // The float64 formula: population mean and standard deviation (ddof 0, scikit-learn's
        // StandardScaler), a zero deviation replaced by 1.
        var t = train.to(ScalarType.Float64).data<double>().ToArray();
        var mu = new double[4];
        var sigma = new double[4];
        for (int f = 0; f < 4; f++)
        {
            var column = Enumerable.Range(0, 50).Select(r => t[r * 4 + f]).ToArray();
            mu[f] = column.Average();
            sigma[f] = Math.Sqrt(column.Select(v => (v - mu[f]) * (v - mu[f])).Average());
            if (sigma[f] == 0) sigma[f] = 1;
        }
        // Float64 sums of 50 terms: error near 1e-15 relative.
        Assert.That(scaler.Mean, Is.EqualTo(mu).Within(1e-12));
        Assert.That(scaler.Scale, Is.EqualTo(sigma).Within(1e-12));
        Assert.That(sigma[3], Is.EqualTo(1), "the constant column is divided by 1");
        var got = scaler.Transform(val).data<float>().ToArray();
        var v = val.data<float>().ToArray();
        for (int i = 0; i < v.Length; i++)
            // float32 subtract and divide of values of magnitude below 100: a few ulps.
            Assert.That(got[i], Is.EqualTo((v[i] - mu[i % 4]) / sigma[i % 4]).Within(1e-5 * Math.Max(1, Math.Abs((v[i] - mu[i % 4]) / sigma[i % 4]))), $"element {i}");
        Assert.That(Assert.Throws<ArgumentException>(() => scaler.Transform(zeros(3, 5)))!.Message, Does.Contain("[M, 4]").And.Contain("[3, 5]"));
        Assert.That(Assert.Throws<ArgumentException>(() => StandardScaler.Fit(zeros(0, 5)))!.Message, Does.Contain("N >= 1"));
    }

    [Test]
    public void Augmentation_runs_only_while_the_loader_is_training_and_transform_always()
    {
        using var scope = NewDisposeScope();
        var x = arange(8 * 2 * 2, ScalarType.Float32).reshape(8, 1, 2, 2);
        var y = arange(8, ScalarType.Int64);
        int augmented = 0, transformed = 0;
        var loader = new DataLoader(x, y, batchSize: 4, shuffle: false, options: new DataLoaderOptions
        {
            Augmentation = BatchTransform.Input(t => { augmented++; return t.neg(); }),
            Transform = BatchTransform.Pair((a, b) => { transformed++; return (a.add(1000), b.mul(10)); }),
        });
        var trainBatch = loader.Select(b => (b.Input.data<float>().ToArray(), b.Target.data<long>().ToArray())).First();
        Assert.That(trainBatch.Item1[..4], Is.EqualTo(new float[] { 1000, 999, 998, 997 }), "augmentation (negate) then transform (+1000)");
        Assert.That(trainBatch.Item2, Is.EqualTo(new long[] { 0, 10, 20, 30 }), "a pair transform changes the target");
        loader.Training = false;
        var evalBatch = loader.Select(b => b.Input.data<float>().ToArray()).First();
        Assert.That(evalBatch[..4], Is.EqualTo(new float[] { 1000, 1001, 1002, 1003 }), "evaluation: the transform only");
        Assert.That((augmented, transformed), Is.EqualTo((1, 2)));
        Assert.That(x[1, 0, 0, 0].item<float>(), Is.EqualTo(4f), "the data is untouched");
    }

    [Test]
    public void ImageAugmentation_plugs_in_and_is_reproducible_from_its_seed()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var x = rand(12, 3, 8, 8);
        var y = arange(12, ScalarType.Int64);
        var options = new AugmentationOptions { HorizontalFlip = 0.5, CropPadding = 2, Brightness = 0.2 };
        List<float[]> Run(ulong seed)
        {
            using var augmentation = new ImageAugmentation(options, seed);
            using var generator = new Generator(4);
            var loader = new DataLoader(x, y, 5, generator: generator, options: new DataLoaderOptions { Augmentation = BatchTransform.Input(augmentation) });
            return loader.Select(b => b.Input.data<float>().ToArray()).ToList();
        }
        var a = Run(7);
        Assert.That(Run(7), Is.EqualTo(a), "same seeds, same augmented batches");
        Assert.That(Run(8), Is.Not.EqualTo(a), "the augmentation's seed matters");
        // Against the module called directly on the loader's unaugmented batches, in order.
        using var reference = new ImageAugmentation(options, 7);
        using var g = new Generator(4);
        var plain = new DataLoader(x, y, 5, generator: g);
        var direct = plain.Select(b => reference.forward(b.Input).data<float>().ToArray()).ToList();
        Assert.That(a, Is.EqualTo(direct));
    }

    [Test]
    public void Transforms_run_on_the_batchs_device()
    {
        if (!cuda.is_available()) Assert.Ignore("no CUDA device: the move to Options.Device and pinning are exercised only on a CUDA machine");
        using var scope = NewDisposeScope();
        var x = rand(10, 3, 4, 4);
        var y = arange(10, ScalarType.Int64);
        var devices = new List<DeviceType>();
        var loader = new DataLoader(x, y, 4, shuffle: false, options: new DataLoaderOptions
        {
            Device = CUDA,
            Transform = BatchTransform.Input(t => { devices.Add(t.device.type); return t.mul(2); }),
        });
        foreach (var (bx, by) in loader)
        {
            Assert.That(bx.device.type, Is.EqualTo(DeviceType.CUDA));
            Assert.That(by.device.type, Is.EqualTo(DeviceType.CUDA));
        }
        Assert.That(devices, Is.All.EqualTo(DeviceType.CUDA));
    }
}
