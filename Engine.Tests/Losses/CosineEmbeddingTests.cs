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
