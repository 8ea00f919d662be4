using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class BceTests
{
    static readonly Op s_oracle = Op.Get("aten::binary_cross_entropy");

    static Tensor Libtorch(Tensor input, Tensor target, Tensor? weight, Reduction reduction) =>
        s_oracle.Call(input, target, weight?.Expand(input.Shape), (long)reduction);

    static Tensor? Weight(string kind) => kind switch
    {
        "element" => Uniform(0.2, 2, 6, 4),
        "broadcast" => Uniform(0.2, 2, 4),
        _ => null,
    };

    [Test, Combinatorial]
    public void Matches_libtorch(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values("none", "element", "broadcast")] string weightKind,
        [Values(false, true)] bool softTargets,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(21);
        var input = Uniform(0.02, 0.98, 6, 4);
        var target = softTargets ? Uniform(0, 1, 6, 4) : (Uniform(0, 1, 6, 4) < 0.5).Double();
        var weight = Weight(weightKind);
        AssertParity($"BinaryCrossEntropy {reduction} weight={weightKind} soft={softTargets}",
            x => Functional.BinaryCrossEntropy(x[0], x[1], weight is null ? null : x[2], reduction),
            x => Libtorch(x[0], x[1], weight is null ? null : x[2], reduction),
            [input, target, weight ?? Torch.Zeros([1], ScalarType.Float64, Device.CPU)], [true, false, false], dtype);
    }

    [Test]
    public void Probabilities_of_exactly_0_and_1_clamp_the_log_at_minus_100_as_libtorch()
    {
        using var scope = DisposeScope.Begin();
        var input = Doubles([0, 1, 1e-50, 1 - 1e-16, 0.5, 0, 1]);
        var target = Doubles([1, 0, 1, 0, 1, 0, 1]);
        AssertParity("BinaryCrossEntropy at the clamp", x => Functional.BinaryCrossEntropy(x[0], x[1], reduction: Reduction.None),
            x => Libtorch(x[0], x[1], null, Reduction.None), [input, target], [false, false]);
        using var loss = Functional.BinaryCrossEntropy(input.Float(), target.Float(), reduction: Reduction.None);
        Assert.That(loss.ToArray<float>().Take(2), Is.EqualTo(new[] { 100f, 100f }));
        // The gradient through a clamped log is 0, never NaN.
        var leaf = input.Clone().RequiresGrad_();
        Functional.BinaryCrossEntropy(leaf, target).Backward();
        Assert.That(ToDoubles(leaf.Grad!).All(double.IsFinite), Is.True);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(22);
        var target = Uniform(0, 1, 4, 3);
        var weight = Uniform(0.5, 2, 3);
        AssertGradCheck("BinaryCrossEntropy weighted, input and target",
            x => Functional.BinaryCrossEntropy(x[0], x[1], weight), Uniform(0.05, 0.95, 4, 3), target);
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = DisposeScope.Begin();
        var weight = Uniform(0.5, 1.5, 4);
        using var loss = new BceLoss(weight, Reduction.Sum);
        var input = Uniform(0.1, 0.9, 3, 4);
        var target = Uniform(0, 1, 3, 4);
        Assert.That(Error(loss.Call(input, target), Libtorch(input, target, weight, Reduction.Sum)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Functional.BinaryCrossEntropy(Uniform(0, 1, 3, 2), Uniform(0, 1, 3)));
        Assert.That(ex!.Message, Does.Contain("BinaryCrossEntropy").And.Contain("[3, 2]").And.Contain("[3]"));
        ex = Assert.Throws<ArgumentException>(() => Functional.BinaryCrossEntropy(Doubles([0.5, 1.5]), Doubles([1, 0])));
        Assert.That(ex!.Message, Does.Contain("BinaryCrossEntropy").And.Contain("[0, 1]"));
        ex = Assert.Throws<ArgumentException>(() => Functional.BinaryCrossEntropy(Uniform(0, 1, 3, 2), Uniform(0, 1, 3, 2), Uniform(0, 1, 3)));
        Assert.That(ex!.Message, Does.Contain("weight [3]").And.Contain("[3, 2]"));
        ex = Assert.Throws<ArgumentException>(() => Functional.BinaryCrossEntropy(Uniform(0, 1, 3), Torch.FromArray(new long[] { 1, 0, 1 })));
        Assert.That(ex!.Message, Does.Contain("target").And.Contain("int64"));
    }
}
