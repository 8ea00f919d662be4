using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class HuberTests
{
    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(0.5, 1.0, 2.5)] double delta,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(71);
        var input = Randn(6, 4) * 2;
        var target = Randn(6, 4);
        target[0, 0] = input[0, 0];               // d = 0
        target[0, 1] = input[0, 1] - delta;       // d = δ exactly, the seam
        AssertParity($"Huber {reduction} delta={delta}", x => Loss.Huber(x[0], x[1], delta, reduction),
            x => nn.functional.huber_loss(x[0], x[1], delta, reduction), [input, target], [true, true], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(72);
        AssertGradCheck("Huber delta 0.7", x => Loss.Huber(x[0], x[1], 0.7), Randn(4, 3) * 2, Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (input, target) = (Randn(5) * 3, Randn(5));
        using var loss = new HuberLoss(delta: 1.5);
        Assert.That(Error(loss.call(input, target), nn.functional.huber_loss(input, target, 1.5)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.Huber(Randn(2, 3), Randn(2)));
        Assert.That(ex!.Message, Does.Contain("Huber").And.Contain("[2, 3]").And.Contain("[2]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.Huber(Randn(2), Randn(2), delta: 0));
    }
}
