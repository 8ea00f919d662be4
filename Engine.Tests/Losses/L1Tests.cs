using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class L1Tests
{
    [Test, Combinatorial]
    public void Matches_torchsharp_including_ties(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(61);
        var input = Randn(5, 3);
        var target = Randn(5, 3);
        target[0, 0] = input[0, 0]; // a tie: the gradient there is sign(0) = 0 on both sides
        AssertParity($"L1 {reduction}", x => Loss.L1(x[0], x[1], reduction), x => nn.functional.l1_loss(x[0], x[1], reduction),
            [input, target], [true, true], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        AssertGradCheck("L1", x => Loss.L1(x[0], x[1]), Randn(4, 3), Randn(4, 3) + 3);
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (input, target) = (Randn(4), Randn(4));
        using var loss = new L1Loss();
        Assert.That(Error(loss.call(input, target), nn.functional.l1_loss(input, target)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Mismatched_shapes_throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.L1(Randn(2, 3), Randn(3, 2)));
        Assert.That(ex!.Message, Does.Contain("L1").And.Contain("[2, 3]").And.Contain("[3, 2]"));
    }
}
