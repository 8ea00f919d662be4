using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class MarginRankingTests
{
    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(0.0, 0.5)] double margin,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(121);
        var target = Uniform(0, 1, 10).lt(0.5).to(ScalarType.Float64) * 2 - 1;
        AssertParity($"MarginRanking {reduction} margin={margin}", x => Loss.MarginRanking(x[0], x[1], x[2], margin, reduction),
            x => nn.functional.margin_ranking_loss(x[0], x[1], x[2], margin, reduction), [Randn(10), Randn(10), target], [true, true, false], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(122);
        var target = Doubles([1, -1, -1, 1, 1]);
        AssertGradCheck("MarginRanking margin 0.3", x => Loss.MarginRanking(x[0], x[1], target, 0.3), Randn(5), Randn(5));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (x1, x2, y) = (Randn(4), Randn(4), Doubles([1, -1, -1, 1]));
        using var loss = new MarginRankingLoss(margin: 0.2);
        Assert.That(Error(loss.call(x1, x2, y), nn.functional.margin_ranking_loss(x1, x2, y, 0.2)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Mismatched_shapes_throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.MarginRanking(Randn(4), Randn(4), Doubles([1, -1])));
        Assert.That(ex!.Message, Does.Contain("MarginRanking").And.Contain("[4]").And.Contain("[2]"));
    }
}
