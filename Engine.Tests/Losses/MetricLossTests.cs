using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class CosineEmbeddingTests
{
    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(-0.2, 0.0, 0.3)] double margin,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(111);
        var x1 = Randn(8, 5);
        var x2 = Randn(8, 5) + x1 * 0.5;
        var target = Doubles([1, -1, 1, -1, -1, 1, 0, -1], 8); // 0: neither similar nor dissimilar, loss 0
        AssertParity($"CosineEmbedding {reduction} margin={margin}", x => Loss.CosineEmbedding(x[0], x[1], x[2], margin, reduction),
            x => nn.functional.cosine_embedding_loss(x[0], x[1], x[2], margin, reduction), [x1, x2, target], [true, true, false], dtype);
    }

    [Test]
    public void Unbatched_pair_matches_torchsharp()
    {
        using var scope = NewDisposeScope();
        manual_seed(113);
        foreach (var y in new[] { 1.0, -1.0 })
        {
            // A dissimilar pair with margin −1 is always inside the margin, so both targets have a gradient.
            var target = tensor(y, ScalarType.Float64);
            AssertParity($"CosineEmbedding unbatched y={y}", x => Loss.CosineEmbedding(x[0], x[1], x[2], -1),
                x => nn.functional.cosine_embedding_loss(x[0], x[1], x[2], -1), [Randn(6), Randn(6), target], [true, true, false]);
        }
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(112);
        var target = Doubles([1, -1, -1, 1]);
        AssertGradCheck("CosineEmbedding margin -0.3", x => Loss.CosineEmbedding(x[0], x[1], target, -0.3), Randn(4, 3), Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (x1, x2, y) = (Randn(4, 3), Randn(4, 3), Doubles([1, -1, -1, 1]));
        using var loss = new CosineEmbeddingLoss(margin: 0.1, Reduction.Sum);
        Assert.That(Error(loss.call(x1, x2, y), nn.functional.cosine_embedding_loss(x1, x2, y, 0.1, Reduction.Sum)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.CosineEmbedding(Randn(4, 3), Randn(4, 2), Doubles([1, 1, 1, 1])));
        Assert.That(ex!.Message, Does.Contain("CosineEmbedding").And.Contain("[4, 3]").And.Contain("[4, 2]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.CosineEmbedding(Randn(4, 3), Randn(4, 3), Doubles([1, 1, 1])));
        Assert.That(ex!.Message, Does.Contain("CosineEmbedding").And.Contain("[4, 3]").And.Contain("[3]"));
    }
}

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
