using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class MseTests
{
    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(51);
        AssertParity($"Mse {reduction}", x => Loss.Mse(x[0], x[1], reduction), x => nn.functional.mse_loss(x[0], x[1], reduction),
            [Randn(5, 3, 2), Randn(5, 3, 2)], [true, true], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        AssertGradCheck("Mse", x => Loss.Mse(x[0], x[1]), Randn(4, 3), Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (input, target) = (Randn(4), Randn(4));
        using var loss = new MseLoss(Reduction.Sum);
        Assert.That(Error(loss.call(input, target), nn.functional.mse_loss(input, target, Reduction.Sum)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Mismatched_shapes_throw_instead_of_broadcasting()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.Mse(Randn(8, 1), Randn(8)));
        Assert.That(ex!.Message, Does.Contain("Mse").And.Contain("[8, 1]").And.Contain("[8]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.Mse(Randn(3), Longs(1, 2, 3)));
        Assert.That(ex!.Message, Does.Contain("Mse").And.Contain("int64"));
        Assert.Throws<ArgumentException>(() => new MseLoss((Reduction)5));
    }
}
