using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class MarginRankingTests
{
    static readonly Op s_oracle = Op.Get("aten::margin_ranking_loss");

    [Test, Combinatorial]
    public void Matches_libtorch(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(0.0, 0.5)] double margin,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(121);
        var target = (Uniform(0, 1, 10) < 0.5).Double() * 2 - 1;
        AssertParity($"MarginRanking {reduction} margin={margin}", x => Functional.MarginRanking(x[0], x[1], x[2], margin, reduction),
            x => s_oracle.Call(x[0], x[1], x[2], margin, (long)reduction), [Randn(10), Randn(10), target], [true, true, false], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(122);
        var target = Doubles([1, -1, -1, 1, 1]);
        AssertGradCheck("MarginRanking margin 0.3", x => Functional.MarginRanking(x[0], x[1], target, 0.3), Randn(5), Randn(5));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = DisposeScope.Begin();
        var (x1, x2, y) = (Randn(4), Randn(4), Doubles([1, -1, -1, 1]));
        using var loss = new MarginRankingLoss(margin: 0.2);
        Assert.That(Error(loss.Call(x1, x2, y), s_oracle.Call(x1, x2, y, 0.2)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Mismatched_shapes_throw()
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Functional.MarginRanking(Randn(4), Randn(4), Doubles([1, -1])));
        Assert.That(ex!.Message, Does.Contain("MarginRanking").And.Contain("[4]").And.Contain("[2]"));
    }
}
