using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class SpatialDropoutTests
{
    static IEnumerable<TestCaseData> Cases()
    {
        // (spatial dims, batched shape)
        yield return new TestCaseData(1, new long[] { 4, 6, 9 });
        yield return new TestCaseData(2, new long[] { 4, 6, 5, 3 });
        yield return new TestCaseData(3, new long[] { 4, 6, 2, 3, 3 });
    }

    static Tensor Ours(int dims, Tensor x, double p) => dims switch
    {
        1 => new Dropout1d(p).forward(x),
        2 => new Dropout2d(p).forward(x),
        _ => new Dropout3d(p).forward(x),
    };

    static Tensor BuiltIn(int dims, Tensor x, double p) => dims switch
    {
        1 => nn.functional.dropout1d(x, p, training: true),
        2 => nn.functional.dropout2d(x, p, training: true),
        _ => nn.functional.dropout3d(x, p, training: true),
    };

    [TestCaseSource(nameof(Cases))]
    public void Spatial_dropout_matches_torchsharp_under_the_same_seed(int dims, long[] shape)
    {
        using var scope = NewDisposeScope();
        foreach (bool batched in new[] { true, false })
        {
            var x = randn(batched ? shape : shape[1..], ScalarType.Float64);
            manual_seed(5);
            var ours = Ours(dims, x, 0.4);
            manual_seed(5);
            var reference = BuiltIn(dims, x, 0.4);
            Identical(ours, reference, $"Dropout{dims}d {(batched ? "batched" : "unbatched")}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Spatial_dropout_drops_whole_channels(int dims, long[] shape)
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var y = Ours(dims, ones(shape), 0.5);
        var perChannel = y.flatten(2);
        var zeros = perChannel.eq(0).all(2);
        var scaled = perChannel.eq(2).all(2); // 1/(1 − 0.5)
        Assert.That(zeros.logical_or(scaled).all().item<bool>(), Is.True, "each channel is all dropped or all kept");
        Assert.That(zeros.any().item<bool>() && scaled.any().item<bool>(), Is.True, "both outcomes occur");
    }

    [Test]
    public void Spatial_dropout_refuses_wrong_rank_and_is_identity_in_eval()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => Dropout2d.Apply(ones(3, 4), 0.5))!;
        Assert.That(e.Message, Does.Contain("Dropout2d").And.Contain("[3, 4]"));
        Assert.Throws<ArgumentException>(() => Dropout1d.Apply(ones(2, 3, 4, 5), 0.5));
        Assert.Throws<ArgumentException>(() => Dropout3d.Apply(ones(2, 3, 4), 0.5));
        var module = new Dropout3d(0.5);
        module.eval();
        var x = randn([2, 3, 2, 2, 2]);
        Identical(module.forward(x), x, "eval");
    }
}
