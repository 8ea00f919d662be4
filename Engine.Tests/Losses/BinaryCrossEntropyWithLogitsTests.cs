using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class BinaryCrossEntropyWithLogitsTests
{
    internal static Tensor TorchSharpBceWithLogits(Tensor input, Tensor target, Tensor? weight, Tensor? posWeight, Reduction reduction) =>
        nn.functional.binary_cross_entropy_with_logits(input, target, weight, reduction, posWeight);

    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values("none", "element", "broadcast")] string weightKind,
        [Values(false, true)] bool posWeighted,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(31);
        var input = Randn(6, 4) * 3;
        var target = Uniform(0, 1, 6, 4);
        Tensor? weight = weightKind switch { "element" => Uniform(0.2, 2, 6, 4), "broadcast" => Uniform(0.2, 2, 4), _ => null };
        var posWeight = Uniform(0.5, 4, 4);
        AssertParity($"BinaryCrossEntropyWithLogits {reduction} weight={weightKind} pos_weight={posWeighted}",
            x => Loss.BinaryCrossEntropyWithLogits(x[0], x[1], weight is null ? null : x[2], posWeighted ? x[3] : null, reduction),
            x => TorchSharpBceWithLogits(x[0], x[1], weight is null ? null : x[2], posWeighted ? x[3] : null, reduction),
            [input, target, weight ?? zeros([1], ScalarType.Float64), posWeight], [true, true, false, false], dtype);
    }

    [TestCase(ScalarType.Float64)]
    [TestCase(ScalarType.Float32)]
    public void Extreme_logits_stay_finite_and_match_torchsharp(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var input = Doubles([-800, -100, -30, -1, 0, 1, 30, 100, 800]);
        var target = Doubles([1, 0, 1, 0.5, 0.3, 1, 0, 1, 0]);
        var posWeight = Doubles([2]);
        AssertParity("BinaryCrossEntropyWithLogits at |x| up to 800",
            x => Loss.BinaryCrossEntropyWithLogits(x[0], x[1], posWeight: x[2], reduction: Reduction.None),
            x => TorchSharpBceWithLogits(x[0], x[1], null, x[2], Reduction.None),
            [input, target, posWeight], [true, false, false], dtype);
        var loss = Loss.BinaryCrossEntropyWithLogits(input, target, reduction: Reduction.None);
        Assert.That(ToDoubles(loss).All(double.IsFinite), Is.True);
        Assert.That(ToDoubles(loss)[0], Is.EqualTo(800).Within(1e-12));
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(32);
        var weight = Uniform(0.5, 2, 4, 3);
        var posWeight = Uniform(0.5, 3, 3);
        AssertGradCheck("BinaryCrossEntropyWithLogits weighted, pos_weight, input and target",
            x => Loss.BinaryCrossEntropyWithLogits(x[0], x[1], weight, posWeight), Randn(4, 3) * 2, Uniform(0, 1, 4, 3));
        var target = Doubles([1, 0, 0.5]);
        AssertGradCheck("BinaryCrossEntropyWithLogits at x = 0", x => Loss.BinaryCrossEntropyWithLogits(x[0], target), Doubles([0, 0, 0]));
    }

    [Test]
    public void Module_keeps_weight_and_pos_weight_as_buffers()
    {
        using var scope = NewDisposeScope();
        var posWeight = Uniform(0.5, 3, 4);
        using var loss = new BceWithLogitsLoss(posWeight: posWeight);
        var input = Randn(3, 4);
        var target = Uniform(0, 1, 3, 4);
        Assert.That(Error(loss.call(input, target), TorchSharpBceWithLogits(input, target, null, posWeight, Reduction.Mean)),
            Is.LessThanOrEqualTo(Float64Tolerance));
        Assert.That(loss.named_buffers().Select(b => b.name), Is.EqualTo(new[] { "pos_weight" }));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.BinaryCrossEntropyWithLogits(Randn(4, 1), Uniform(0, 1, 4)));
        Assert.That(ex!.Message, Does.Contain("BinaryCrossEntropyWithLogits").And.Contain("[4, 1]").And.Contain("[4]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.BinaryCrossEntropyWithLogits(Randn(4, 3), Uniform(0, 1, 4, 3), posWeight: Uniform(1, 2, 2)));
        Assert.That(ex!.Message, Does.Contain("pos_weight [2]").And.Contain("[4, 3]"));
    }
}
