using Engine.Normalization;

namespace Engine.Tests.Normalization;

/// <summary>
/// Bad input gets an ArgumentException naming the layer, the input's shape and what was expected,
/// thrown before the layer touches a native kernel or its state (running statistics and
/// num_batches_tracked are unchanged after a refused call), on both the formula and the fused path.
/// </summary>
public class BadInputTests
{
    static void AssertRefused(nn.Module<Tensor, Tensor> layer, Tensor input, params string[] mentions)
    {
        foreach (var fused in new[] { false, true })
        {
            SetFused(layer, fused);
            var before = layer.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
            var e = Assert.Throws<ArgumentException>(() => layer.forward(input))!;
            foreach (var m in mentions) Assert.That(e.Message, Does.Contain(m));
            foreach (var (name, value) in layer.state_dict())
                Assert.That(value.eq(before[name]).all().item<bool>(), Is.True, $"{name} changed by a refused call");
        }
    }

    static void SetFused(nn.Module layer, bool fused)
    {
        switch (layer)
        {
            case BatchNorm b: b.UseFusedKernel = fused; break;
            case InstanceNorm i: i.UseFusedKernel = fused; break;
            case LayerNorm l: l.UseFusedKernel = fused; break;
            case GroupNorm g: g.UseFusedKernel = fused; break;
            case LocalResponseNorm r: r.UseFusedKernel = fused; break;
        }
    }

    [Test]
    public void BatchNorm_in_training_with_one_value_per_channel()
    {
        AssertRefused(new BatchNorm1d(5), randn(1, 5), "BatchNorm1d", "(1, 5)", "more than 1 value per channel");
        AssertRefused(new BatchNorm2d(3), randn(1, 3, 1, 1), "BatchNorm2d", "(1, 3, 1, 1)");
        AssertRefused(new BatchNorm3d(2), randn([1, 2, 1, 1, 1]), "BatchNorm3d", "(1, 2, 1, 1, 1)");
        // Without running statistics eval uses the batch too, so the same input is refused there.
        var untracked = new BatchNorm1d(5, track_running_stats: false);
        untracked.eval();
        AssertRefused(untracked, randn(1, 5), "BatchNorm1d", "(1, 5)");
        // With running statistics, eval on one sample is what inference does: allowed.
        var tracked = new BatchNorm1d(5);
        tracked.eval();
        Assert.That(tracked.forward(randn(1, 5)).shape, Is.EqualTo(new long[] { 1, 5 }));
    }

    [Test]
    public void InstanceNorm_with_one_spatial_element()
        => AssertRefused(new InstanceNorm1d(4), randn(2, 4, 1), "InstanceNorm1d", "(2, 4, 1)", "more than 1 spatial element");

    [Test]
    public void GroupNorm_whose_groups_do_not_divide_the_channels()
    {
        var e = Assert.Throws<ArgumentException>(() => new GroupNorm(4, 6))!;
        Assert.That(e.Message, Does.Contain("GroupNorm").And.Contain("num_groups = 4").And.Contain("num_channels = 6"));
    }

    [Test]
    public void Normalized_shape_that_does_not_match_the_input()
    {
        AssertRefused(new LayerNorm(5), randn(3, 4), "LayerNorm", "(3, 4)", "normalized_shape (5)");
        AssertRefused(new LayerNorm([4, 5]), randn(2, 5, 4), "LayerNorm", "(2, 5, 4)", "(4, 5)");
        AssertRefused(new LayerNorm([2, 3, 4]), randn(3, 4), "LayerNorm", "(3, 4)");
        AssertRefused(new RMSNorm(8), randn(2, 7), "RMSNorm", "(2, 7)", "(8)");
    }

    [Test]
    public void Channel_count_that_does_not_match()
    {
        AssertRefused(new BatchNorm2d(3), randn(2, 4, 5, 5), "BatchNorm2d", "(2, 4, 5, 5)", "num_features = 3");
        AssertRefused(new BatchNorm1d(3), randn(8, 4, 6), "BatchNorm1d", "(8, 4, 6)", "num_features = 3");
        AssertRefused(new InstanceNorm2d(3, affine: true), randn(2, 4, 5, 5), "InstanceNorm2d", "(2, 4, 5, 5)", "num_features = 3");
        AssertRefused(new InstanceNorm2d(3), randn(4, 5, 5), "InstanceNorm2d", "(4, 5, 5)", "num_features = 3");
        AssertRefused(new GroupNorm(2, 6), randn(2, 4, 5, 5), "GroupNorm", "(2, 4, 5, 5)", "num_channels = 6");
    }

    [Test]
    public void Wrong_number_of_dimensions()
    {
        AssertRefused(new BatchNorm2d(3), randn(2, 3, 5), "BatchNorm2d", "(2, 3, 5)", "4D (N, C, H, W)");
        AssertRefused(new BatchNorm1d(3), randn(3), "BatchNorm1d", "(3)");
        AssertRefused(new BatchNorm3d(3), randn(2, 3, 4, 4), "BatchNorm3d", "(2, 3, 4, 4)", "5D");
        AssertRefused(new InstanceNorm1d(3), randn(2, 3, 4, 4), "InstanceNorm1d", "(2, 3, 4, 4)");
        AssertRefused(new GroupNorm(1, 3), randn(3), "GroupNorm", "(3)");
        AssertRefused(new LocalResponseNorm(3), randn(2, 3), "LocalResponseNorm", "(2, 3)");
    }

    [Test]
    public void Integer_input()
        => AssertRefused(new BatchNorm1d(3), ones(4, 3, dtype: ScalarType.Int64), "BatchNorm1d", "Int64");

    [Test]
    public void Bad_constructor_arguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm1d(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm2d(3, momentum: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerNorm(4, eps: -1));
        Assert.Throws<ArgumentException>(() => new LayerNorm([4, 0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LocalResponseNorm(0));
    }
}
