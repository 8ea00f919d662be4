using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class TripletMarginTests
{
    static readonly Op s_oracle = Op.Get("aten::triplet_margin_loss");

    [Test, Combinatorial]
    public void Matches_libtorch(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(1.0, 2.0, 3.0)] double p,
        [Values(false, true)] bool swap,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(131);
        var anchor = Randn(8, 5);
        var positive = anchor + Randn(8, 5) * 0.7;
        var negative = Randn(8, 5);
        const double margin = 1.5, eps = 1e-6;
        AssertParity($"TripletMargin {reduction} p={p} swap={swap}",
            x => Functional.TripletMargin(x[0], x[1], x[2], margin, p, eps, swap, reduction),
            x => s_oracle.Call(x[0], x[1], x[2], margin, p, eps, swap, (long)reduction),
            [anchor, positive, negative], [true, true, true], dtype);
    }

    [Test]
    public void Unbatched_triplet_matches_libtorch()
    {
        using var scope = DisposeScope.Begin();
        AssertParity("TripletMargin unbatched", x => Functional.TripletMargin(x[0], x[1], x[2], margin: 3),
            x => s_oracle.Call(x[0], x[1], x[2], 3.0), [Randn(6), Randn(6), Randn(6)], [true, true, true]);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(132);
        AssertGradCheck("TripletMargin p=2 swap", x => Functional.TripletMargin(x[0], x[1], x[2], margin: 2, swap: true),
            Randn(4, 3), Randn(4, 3), Randn(4, 3));
        AssertGradCheck("TripletMargin p=3", x => Functional.TripletMargin(x[0], x[1], x[2], margin: 2, p: 3),
            Randn(4, 3), Randn(4, 3), Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = DisposeScope.Begin();
        var (a, pos, neg) = (Randn(4, 3), Randn(4, 3), Randn(4, 3));
        using var loss = new TripletMarginLoss(margin: 0.5, p: 1, swap: true);
        Assert.That(Error(loss.Call(a, pos, neg), s_oracle.Call(a, pos, neg, 0.5, 1.0, 1e-6, true)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Mismatched_shapes_throw()
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Functional.TripletMargin(Randn(4, 3), Randn(4, 3), Randn(3, 3)));
        Assert.That(ex!.Message, Does.Contain("TripletMargin").And.Contain("[4, 3]").And.Contain("[3, 3]"));
    }
}
