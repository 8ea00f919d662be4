using Engine.Normalization;

using Sequential = TorchSharp.Modules.Sequential;

namespace Engine.Tests.Normalization;

/// <summary>
/// Engine's BatchNorm2d on a real model: a small CNN with Engine's BatchNorm2d and the same CNN with
/// TorchSharp's nn.BatchNorm2d, the same initial weights (one state_dict loaded into the other: the
/// names agree), trained 50 SGD-with-momentum steps on the same MNIST batches; the losses at every
/// step, the running statistics and the eval loss at the end must agree. Needs data/mnist (the
/// canonical IDX files; scripts/get-mnist.sh fetches them) or ENGINE_MNIST=folder; ignored without it.
/// </summary>
public class MnistCnnTests
{
    static Sequential Cnn(Func<long, nn.Module<Tensor, Tensor>> batchNorm) => nn.Sequential(
        ("conv1", nn.Conv2d(1, 8, 3, padding: 1)), ("bn1", batchNorm(8)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(8, 16, 3, padding: 1)), ("bn2", batchNorm(16)), ("relu2", nn.ReLU()), ("pool2", nn.MaxPool2d(2)),
        ("flat", nn.Flatten()), ("fc", nn.Linear(16 * 7 * 7, 10)));

    [Test]
    public void Cnn_with_engine_batchnorm_trains_like_torchsharps_for_50_steps()
    {
        const int steps = 50, batch = 64;
        var (images, labels) = LoadMnist(steps * batch + 500);

        manual_seed(81);
        var reference = Cnn(c => nn.BatchNorm2d(c));
        var engine = Cnn(c => new BatchNorm2d(c));
        var (missing, unexpected) = engine.load_state_dict(reference.state_dict());
        Assert.That(missing, Is.Empty);
        Assert.That(unexpected, Is.Empty);
        // A stable setting (the loss falls from 2.48 to about 0.24): at lr 0.05, momentum 0.9, on the
        // edge of stability (the loss barely moves for the first steps, then drops), the two runs agree
        // to 2e-6 for 25 steps and then drift apart to 6e-4 by step 40. Not verified, but the likely
        // cause is the dynamics amplifying each step's gradient rounding differences (~2e-7,
        // NormParity); the layer-level parity tests show no systematic difference.
        var optRef = optim.SGD(reference.parameters(), 0.02, momentum: 0.5);
        var optEng = optim.SGD(engine.parameters(), 0.02, momentum: 0.5);

        double worst = 0;
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var x = images.narrow(0, step * batch, batch);
            var y = labels.narrow(0, step * batch, batch);
            optRef.zero_grad();
            optEng.zero_grad();
            var lossRef = nn.functional.cross_entropy(reference.forward(x), y);
            var lossEng = nn.functional.cross_entropy(engine.forward(x), y);
            lossRef.backward();
            lossEng.backward();
            optRef.step();
            optEng.step();
            var a = lossRef.item<float>();
            var b = lossEng.item<float>();
            worst = Math.Max(worst, Math.Abs(a - b) / Math.Abs(a));
            if (step % 10 == 0 || step == steps - 1) TestContext.Out.WriteLine($"step {step}: loss TorchSharp {a:F6}, Engine {b:F6}");
        }

        reference.eval();
        engine.eval();
        double evalDiff, statsDiff = 0;
        using (no_grad())
        {
            var x = images.narrow(0, steps * batch, 500);
            var y = labels.narrow(0, steps * batch, 500);
            var a = nn.functional.cross_entropy(reference.forward(x), y).item<float>();
            var b = nn.functional.cross_entropy(engine.forward(x), y).item<float>();
            evalDiff = Math.Abs(a - b) / Math.Abs(a);
            TestContext.Out.WriteLine($"eval loss on 500 held-back images: TorchSharp {a:F6}, Engine {b:F6}");
            var sdRef = reference.state_dict();
            foreach (var (name, t) in engine.state_dict())
                if (name.Contains("running")) statsDiff = Math.Max(statsDiff, NormParity.Relative(sdRef[name], t));
        }
        TestContext.Out.WriteLine($"worst relative loss difference: training {worst:E1}, eval {evalDiff:E1}; running statistics {statsDiff:E1}");

        // Both runs do the same float32 arithmetic up to summation order (NormParity.Tolerance: a few
        // 1e-7 per step); each step's rounding feeds into the next weights, and in this stable setting
        // the training losses stayed within 4.4e-7 relative over all 50 steps and the running
        // statistics within 1.6e-7 (measured); the eval loss, a function of weights that carry 50
        // steps of those differences, within 2.9e-6. 1e-5 and 3e-5 allow for another CPU's summation
        // order while still being float32 agreement; a wrong normalization or running-statistics
        // rule moves the losses in the second or third digit.
        Assert.That(worst, Is.LessThan(1e-5));
        Assert.That(evalDiff, Is.LessThan(3e-5));
        Assert.That(statsDiff, Is.LessThan(1e-5));
    }

    /// <summary>The first <paramref name="count"/> training images (scaled to [0, 1], N×1×28×28) and labels.</summary>
    static (Tensor Images, Tensor Labels) LoadMnist(int count)
    {
        var folder = Environment.GetEnvironmentVariable("ENGINE_MNIST") ?? FindDataFolder();
        var imagesPath = folder is null ? null : Path.Combine(folder, "train-images-idx3-ubyte");
        var labelsPath = folder is null ? null : Path.Combine(folder, "train-labels-idx1-ubyte");
        if (imagesPath is null || !File.Exists(imagesPath) || !File.Exists(labelsPath!))
            Assert.Ignore("MNIST not found: run scripts/get-mnist.sh (data/mnist) or set ENGINE_MNIST");
        var pixels = File.ReadAllBytes(imagesPath!).AsSpan(16, count * 28 * 28).ToArray();   // IDX: 16-byte header
        var classes = File.ReadAllBytes(labelsPath!).AsSpan(8, count).ToArray();            // IDX: 8-byte header
        var images = tensor(pixels).reshape(count, 1, 28, 28).to(ScalarType.Float32).div(255);
        var labels = tensor(classes).to(ScalarType.Int64);
        return (images, labels);
    }

    static string? FindDataFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "data", "mnist");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }
}
