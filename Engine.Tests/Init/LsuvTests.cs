using Engine.Init;
using TorchSharp.Modules;

namespace Engine.Tests.Init;

using Init = Engine.Init.Init;

/// <summary>Init.Lsuv_ on real deep networks: afterwards each Linear/Conv layer's output, recomputed
/// by running the layers one by one in float64, has variance 1 within the tolerance; the weights
/// are rescaled orthogonal matrices; bad models and constant outputs throw.</summary>
public class LsuvTests
{
    /// <summary>The first <paramref name="count"/> MNIST test images in [0, 1] (N×1×28×28) when
    /// data/mnist (scripts/get-mnist.sh) or ENGINE_MNIST holds them, else a fixed random batch with
    /// the same shape and range.</summary>
    internal static Tensor Images(int count)
    {
        var folder = Environment.GetEnvironmentVariable("ENGINE_MNIST");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); folder is null && dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "data", "mnist"))) folder = Path.Combine(dir.FullName, "data", "mnist");
        var path = folder is null ? null : Path.Combine(folder, "t10k-images-idx3-ubyte");
        if (path is null || !File.Exists(path))
        {
            TestContext.Progress.WriteLine("LSUV tests: no MNIST (scripts/get-mnist.sh), using a fixed random batch");
            using var g = new Generator(1234);
            return rand([count, 1, 28, 28], generator: g);
        }
        var pixels = File.ReadAllBytes(path).AsSpan(16, count * 28 * 28).ToArray();   // IDX: 16-byte header
        return tensor(pixels).reshape(count, 1, 28, 28).to(ScalarType.Float32).div(255);
    }

    static Sequential DeepMlp(int depth, Func<nn.Module<Tensor, Tensor>> activation)
    {
        var seq = nn.Sequential();
        long width = 784;
        for (int i = 0; i < depth; i++)
        {
            long next = i == depth - 1 ? 10 : 128;
            seq.append($"fc{i}", nn.Linear(width, next));
            if (i < depth - 1) seq.append($"act{i}", activation());
            width = next;
        }
        return seq;
    }

    /// <summary>Each weight layer's output variance, running the Sequential's children one by one
    /// in float64 (no hooks: independent of how Lsuv_ measured).</summary>
    static List<double> LayerVariances(Sequential model, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var m64 = model;
        m64.to(ScalarType.Float64);
        var h = x.to(ScalarType.Float64);
        var result = new List<double>();
        foreach (var (_, child) in model.named_children())
        {
            h = ((nn.Module<Tensor, Tensor>)child).call(h);
            if (child is Linear or Convolution) result.Add(h.var(unbiased: false).item<double>());
        }
        model.to(ScalarType.Float32);
        return result;
    }

    [Test]
    public void A_ten_layer_relu_mlp_on_mnist_ends_with_unit_variance_at_every_layer()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var batch = Images(512).flatten(1);
        using var model = DeepMlp(10, () => nn.ReLU());
        const double tol = 0.05;
        var report = Init.Lsuv_(model, batch, tolerance: tol, maxIterations: 20);
        Assert.That(report.Select(r => r.Name), Is.EqualTo(Enumerable.Range(0, 10).Select(i => $"fc{i}")));
        Assert.That(report.All(r => r.Converged), Is.True, string.Join("; ", report));
        var variances = LayerVariances(model, batch);
        Assert.That(variances, Has.Count.EqualTo(10));
        // Lsuv_ measured in float32 what this recomputes in float64: they differ by float32 rounding
        // (~1e-6), far inside the tolerance.
        for (int i = 0; i < 10; i++)
        {
            Assert.That(variances[i], Is.EqualTo(1).Within(tol), $"fc{i}");
            Assert.That(variances[i], Is.EqualTo(report[i].Variance).Within(1e-4), $"fc{i} as reported");
        }
        // The weights are the orthogonal start rescaled: W Wᵀ = c² I for the wide first layer [128, 784].
        var w = ((Linear)model.named_children().First().module).weight!.detach().to(ScalarType.Float64);
        var gram = w.mm(w.t());
        double c2 = gram[0, 0].item<double>();
        Assert.That(gram.div(c2).sub(eye(128, dtype: ScalarType.Float64)).abs().max().item<double>(), Is.LessThan(1e-5));
        Assert.That(((Linear)model.named_children().First().module).bias!.abs().max().item<float>(), Is.EqualTo(0), "biases start at 0");
    }

    [Test]
    public void A_conv_net_with_tanh_converges_too()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var batch = Images(64);
        using var model = nn.Sequential(
            ("conv0", nn.Conv2d(1, 8, 3, padding: 1)), ("act0", nn.Tanh()),
            ("conv1", nn.Conv2d(8, 8, 3, padding: 1)), ("act1", nn.Tanh()),
            ("conv2", nn.Conv2d(8, 4, 3, stride: 2)), ("act2", nn.Tanh()),
            ("flat", nn.Flatten()), ("fc", nn.Linear(4 * 13 * 13, 10)));
        var report = Init.Lsuv_(model, batch, tolerance: 0.02, maxIterations: 30);
        Assert.That(report.Select(r => r.Type), Is.EqualTo(new[] { "Conv2d", "Conv2d", "Conv2d", "Linear" }));
        Assert.That(report.All(r => r.Converged), Is.True, string.Join("; ", report));
        foreach (var v in LayerVariances(model, batch)) Assert.That(v, Is.EqualTo(1).Within(0.02));
    }

    [Test]
    public void Layers_of_a_custom_module_with_functional_activations_are_reached_by_their_hooks()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var model = new TanhStack();
        var batch = Images(256).flatten(1);
        var report = Init.Lsuv_(model, batch, tolerance: 0.03, maxIterations: 20);
        Assert.That(report.Select(r => r.Name), Is.EqualTo(new[] { "layers.0", "layers.1", "layers.2" }));
        Assert.That(report.All(r => r.Converged), Is.True, string.Join("; ", report));
        // Recompute each output's variance by hand, in float64.
        using var noGrad = no_grad();
        var h = batch.to(ScalarType.Float64);
        for (int i = 0; i < 3; i++)
        {
            var layer = (Linear)model.named_modules().First(m => m.name == $"layers.{i}").module;
            h = nn.functional.linear(h, layer.weight!.to(ScalarType.Float64), layer.bias!.to(ScalarType.Float64));
            Assert.That(h.var(unbiased: false).item<double>(), Is.EqualTo(1).Within(0.03), $"layers.{i}");
            h = h.tanh();
        }
    }

    sealed class TanhStack : nn.Module<Tensor, Tensor>
    {
        readonly ModuleList<Linear> layers = new(nn.Linear(784, 64), nn.Linear(64, 64), nn.Linear(64, 10));

        public TanhStack() : base(nameof(TanhStack)) => RegisterComponents();

        public override Tensor forward(Tensor x)
        {
            foreach (var l in layers.Take(2)) x = l.call(x).tanh();
            return layers[2].call(x);
        }
    }

    [Test]
    public void The_iteration_cap_stops_a_layer_and_reports_it_unconverged()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var model = DeepMlp(3, () => nn.ReLU());
        // Inputs of std 1000 make the first output variance ~1e6: one rescaling by 1/√Var lands near
        // 1, but the tolerance 1e-12 is never met, so every layer runs into the cap of 2.
        var report = Init.Lsuv_(model, randn(256, 784).mul(1000), tolerance: 1e-12, maxIterations: 2);
        Assert.That(report.Select(r => r.Iterations), Is.All.EqualTo(2));
        Assert.That(report.Any(r => r.Converged), Is.False);
    }

    [Test]
    public void A_model_without_linear_or_conv_throws_naming_the_call()
    {
        using var scope = NewDisposeScope();
        using var model = nn.Sequential(nn.ReLU(), nn.Tanh());
        var ex = Assert.Throws<ArgumentException>(() => Init.Lsuv_(model, randn(4, 3)));
        Assert.That(ex!.Message, Does.Contain("Lsuv_").And.Contain("no Linear or Conv").And.Contain("[4, 3]"));
    }

    [Test]
    public void A_constant_layer_output_throws_naming_the_layer_and_shape()
    {
        using var scope = NewDisposeScope();
        using var model = DeepMlp(3, () => nn.ReLU());
        // An all-zero batch through a zero-bias layer gives a constant 0 output.
        var ex = Assert.Throws<ArgumentException>(() => Init.Lsuv_(model, zeros(16, 784)));
        Assert.That(ex!.Message, Does.Contain("Lsuv_").And.Contain("'fc0'").And.Contain("constant").And.Contain("[16, 128]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Init.Lsuv_(model, randn(4, 784), tolerance: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Init.Lsuv_(model, randn(4, 784), maxIterations: 0));
    }
}
