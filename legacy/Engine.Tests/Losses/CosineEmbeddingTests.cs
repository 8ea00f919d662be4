using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class CosineEmbeddingTests
{
    static readonly Op s_oracle = Op.Get("aten::cosine_embedding_loss");

    [Test, Combinatorial]
    public void Matches_libtorch(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(-0.2, 0.0, 0.3)] double margin,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(111);
        var x1 = Randn(8, 5);
        var x2 = Randn(8, 5) + x1 * 0.5;
        var target = Doubles([1, -1, 1, -1, -1, 1, 0, -1], 8); // 0: neither similar nor dissimilar, loss 0
        AssertParity($"CosineEmbedding {reduction} margin={margin}", x => Functional.CosineEmbedding(x[0], x[1], x[2], margin, reduction),
            x => s_oracle.Call(x[0], x[1], x[2], margin, (long)reduction), [x1, x2, target], [true, true, false], dtype);
    }

    [Test]
    public void Unbatched_pair_matches_libtorch()
    {
        using var scope = DisposeScope.Begin();
        var target = Torch.Scalar(-1.0, ScalarType.Float64, Device.CPU);
        AssertParity("CosineEmbedding unbatched", x => Functional.CosineEmbedding(x[0], x[1], x[2], -0.5),
            x => s_oracle.Call(x[0], x[1], x[2], -0.5), [Randn(6), Randn(6), target], [true, true, false]);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(112);
        var target = Doubles([1, -1, -1, 1]);
        AssertGradCheck("CosineEmbedding margin -0.3", x => Functional.CosineEmbedding(x[0], x[1], target, -0.3), Randn(4, 3), Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = DisposeScope.Begin();
        var (x1, x2, y) = (Randn(4, 3), Randn(4, 3), Doubles([1, -1, -1, 1]));
        using var loss = new CosineEmbeddingLoss(margin: 0.1, Reduction.Sum);
        Assert.That(Error(loss.Call(x1, x2, y), s_oracle.Call(x1, x2, y, 0.1, 2L)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Functional.CosineEmbedding(Randn(4, 3), Randn(4, 2), Doubles([1, 1, 1, 1])));
        Assert.That(ex!.Message, Does.Contain("CosineEmbedding").And.Contain("[4, 3]").And.Contain("[4, 2]"));
        ex = Assert.Throws<ArgumentException>(() => Functional.CosineEmbedding(Randn(4, 3), Randn(4, 3), Doubles([1, 1, 1])));
        Assert.That(ex!.Message, Does.Contain("CosineEmbedding").And.Contain("[4, 3]").And.Contain("[3]"));
    }
}
