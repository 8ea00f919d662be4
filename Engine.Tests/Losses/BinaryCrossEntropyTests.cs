using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class BinaryCrossEntropyTests
{
    /// <summary>TorchSharp's binary_cross_entropy; a broadcast weight is expanded to the input's shape first.</summary>
    static Tensor TorchSharpBce(Tensor input, Tensor target, Tensor? weight, Reduction reduction) =>
        nn.functional.binary_cross_entropy(input, target, weight?.expand(input.shape), reduction);

    static Tensor? Weight(string kind) => kind switch
    {
        "element" => Uniform(0.2, 2, 6, 4),
        "broadcast" => Uniform(0.2, 2, 4),
        _ => null,
    };

    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values("none", "element", "broadcast")] string weightKind,
        [Values(false, true)] bool softTargets,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(21);
        var input = Uniform(0.02, 0.98, 6, 4);
        var target = softTargets ? Uniform(0, 1, 6, 4) : Uniform(0, 1, 6, 4).lt(0.5).to(ScalarType.Float64);
        var weight = Weight(weightKind);
        AssertParity($"BinaryCrossEntropy {reduction} weight={weightKind} soft={softTargets}",
            x => Loss.BinaryCrossEntropy(x[0], x[1], weight is null ? null : x[2], reduction),
            x => TorchSharpBce(x[0], x[1], weight is null ? null : x[2], reduction),
            [input, target, weight ?? zeros([1], ScalarType.Float64)], [true, false, false], dtype);
    }

    [Test]
    public void Probabilities_of_exactly_0_and_1_clamp_the_log_at_minus_100_as_torchsharp()
    {
        using var scope = NewDisposeScope();
        var input = Doubles([0, 1, 1e-50, 1 - 1e-16, 0.5, 0, 1]);
        var target = Doubles([1, 0, 1, 0, 1, 0, 1]);
        AssertParity("BinaryCrossEntropy at the clamp", x => Loss.BinaryCrossEntropy(x[0], x[1], reduction: Reduction.None),
            x => TorchSharpBce(x[0], x[1], null, Reduction.None), [input, target], [false, false]);
        var loss = Loss.BinaryCrossEntropy(input.to(ScalarType.Float32), target.to(ScalarType.Float32), reduction: Reduction.None);
        Assert.That(loss.data<float>().ToArray().Take(2), Is.EqualTo(new[] { 100f, 100f }));
        // The gradient through a clamped log is 0, never NaN (libtorch's divides by max(x(1−x), 1e−12)).
        var leaf = input.clone().requires_grad_();
        Loss.BinaryCrossEntropy(leaf, target).backward();
        Assert.That(ToDoubles(leaf.grad!).All(double.IsFinite), Is.True);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(22);
        var target = Uniform(0, 1, 4, 3);
        var weight = Uniform(0.5, 2, 3);
        AssertGradCheck("BinaryCrossEntropy weighted, input and target",
            x => Loss.BinaryCrossEntropy(x[0], x[1], weight), Uniform(0.05, 0.95, 4, 3), target);
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var weight = Uniform(0.5, 1.5, 4);
        using var loss = new BceLoss(weight, Reduction.Sum);
        var input = Uniform(0.1, 0.9, 3, 4);
        var target = Uniform(0, 1, 3, 4);
        Assert.That(Error(loss.call(input, target), TorchSharpBce(input, target, weight, Reduction.Sum)), Is.LessThanOrEqualTo(Float64Tolerance));
        Assert.That(loss.named_buffers().Select(b => b.name), Is.EqualTo(new[] { "weight" }));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.BinaryCrossEntropy(Uniform(0, 1, 3, 2), Uniform(0, 1, 3)));
        Assert.That(ex!.Message, Does.Contain("BinaryCrossEntropy").And.Contain("[3, 2]").And.Contain("[3]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.BinaryCrossEntropy(Doubles([0.5, 1.5]), Doubles([1, 0])));
        Assert.That(ex!.Message, Does.Contain("BinaryCrossEntropy").And.Contain("[0, 1]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.BinaryCrossEntropy(Uniform(0, 1, 3, 2), Uniform(0, 1, 3, 2), Uniform(0, 1, 3)));
        Assert.That(ex!.Message, Does.Contain("weight [3]").And.Contain("[3, 2]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.BinaryCrossEntropy(Uniform(0, 1, 3), Longs(1, 0, 1)));
        Assert.That(ex!.Message, Does.Contain("target").And.Contain("int64"));
        ex = Assert.Throws<ArgumentException>(() => Loss.BinaryCrossEntropy(Uniform(0, 1, 3), Uniform(0, 1, 3).to(ScalarType.Float32)));
        Assert.That(ex!.Message, Does.Contain("BinaryCrossEntropy").And.Contain("float32").And.Contain("float64"));
    }
}
