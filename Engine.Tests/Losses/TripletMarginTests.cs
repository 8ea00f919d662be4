using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class TripletMarginTests
{
    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(1, 2, 3)] int p,
        [Values(false, true)] bool swap,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(131);
        var anchor = Randn(8, 5);
        var positive = anchor + Randn(8, 5) * 0.7;
        var negative = Randn(8, 5);
        const double margin = 1.5, eps = 1e-6;
        AssertParity($"TripletMargin {reduction} p={p} swap={swap}",
            x => Loss.TripletMargin(x[0], x[1], x[2], margin, p, eps, swap, reduction),
            x => nn.functional.triplet_margin_loss(x[0], x[1], x[2], margin, p, eps, swap, reduction),
            [anchor, positive, negative], [true, true, true], dtype);
    }

    [Test]
    public void Unbatched_triplet_matches_torchsharp()
    {
        using var scope = NewDisposeScope();
        AssertParity("TripletMargin unbatched", x => Loss.TripletMargin(x[0], x[1], x[2], margin: 3),
            x => nn.functional.triplet_margin_loss(x[0], x[1], x[2], 3.0), [Randn(6), Randn(6), Randn(6)], [true, true, true]);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(132);
        AssertGradCheck("TripletMargin p=2 swap", x => Loss.TripletMargin(x[0], x[1], x[2], margin: 2, swap: true),
            Randn(4, 3), Randn(4, 3), Randn(4, 3));
        AssertGradCheck("TripletMargin p=3", x => Loss.TripletMargin(x[0], x[1], x[2], margin: 2, p: 3),
            Randn(4, 3), Randn(4, 3), Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (a, pos, neg) = (Randn(4, 3), Randn(4, 3), Randn(4, 3));
        using var loss = new TripletMarginLoss(margin: 0.5, p: 1, swap: true);
        Assert.That(Error(loss.call(a, pos, neg), nn.functional.triplet_margin_loss(a, pos, neg, 0.5, 1, 1e-6, true)),
            Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.TripletMargin(Randn(4, 3), Randn(4, 3), Randn(3, 3)));
        Assert.That(ex!.Message, Does.Contain("TripletMargin").And.Contain("[4, 3]").And.Contain("[3, 3]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.TripletMargin(Randn(2, 4, 3), Randn(2, 4, 3), Randn(2, 4, 3)));
        Assert.That(ex!.Message, Does.Contain("TripletMargin").And.Contain("[2, 4, 3]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.TripletMargin(Randn(3), Randn(3), Randn(3), p: 0));
    }
}
