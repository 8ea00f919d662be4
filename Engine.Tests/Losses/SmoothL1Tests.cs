using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class SmoothL1Tests
{
    /// <summary>torch.nn.functional.smooth_l1_loss: β = 0 is l1_loss (whose gradient at a tie is 0;
    /// aten::smooth_l1_loss's own backward at β = 0 gives −1 there, as 0 ≤ −0).</summary>
    static Tensor TorchSharpSmoothL1(Tensor input, Tensor target, Reduction reduction, double beta) => beta == 0
        ? nn.functional.l1_loss(input, target, reduction)
        : nn.functional.smooth_l1_loss(input, target, reduction, beta);

    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(0.0, 0.5, 1.0, 2.5)] double beta,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(81);
        var input = Randn(6, 4) * 2;
        var target = Randn(6, 4);
        target[0, 0] = input[0, 0];
        target[0, 1] = input[0, 1] + beta;
        AssertParity($"SmoothL1 {reduction} beta={beta}", x => Loss.SmoothL1(x[0], x[1], beta, reduction),
            x => TorchSharpSmoothL1(x[0], x[1], reduction, beta), [input, target], [true, true], dtype);
    }

    [Test]
    public void Beta_1_equals_Huber_delta_1()
    {
        using var scope = NewDisposeScope();
        var (input, target) = (Randn(10) * 3, Randn(10));
        Assert.That(Error(Loss.SmoothL1(input, target), Loss.Huber(input, target)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(82);
        AssertGradCheck("SmoothL1 beta 0.6", x => Loss.SmoothL1(x[0], x[1], 0.6), Randn(4, 3) * 2, Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (input, target) = (Randn(5) * 3, Randn(5));
        using var loss = new SmoothL1Loss(Reduction.Sum, beta: 0.5);
        Assert.That(Error(loss.call(input, target), nn.functional.smooth_l1_loss(input, target, Reduction.Sum, 0.5)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.SmoothL1(Randn(4), Randn(5)));
        Assert.That(ex!.Message, Does.Contain("SmoothL1").And.Contain("[4]").And.Contain("[5]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.SmoothL1(Randn(2), Randn(2), beta: -1));
    }
}
