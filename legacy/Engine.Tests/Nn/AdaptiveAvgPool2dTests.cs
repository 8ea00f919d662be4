using Engine.Nn;

namespace Engine.Tests.Nn;

public class AdaptiveAvgPool2dTests
{
    // Against Python PyTorch's module: bit-exact on this machine (same libtorch kernels); the
    // tolerance only allows float32 sums reordered by another thread count.
    const double Rtol = 1e-6, Atol = 1e-6;

    [Test]
    public void AdaptiveAvgPool2d_matches_pytorch_module() =>
        LayerFixture.Get("adaptiveavgpool2d_4").Check(() => new AdaptiveAvgPool2d(4), LayerFixture.Single, Rtol, Atol);

    [Test]
    public void AdaptiveAvgPool2d_keeps_a_null_size_and_takes_unbatched_input_like_pytorch() =>
        LayerFixture.Get("adaptiveavgpool2d_none_unbatched").Check(() => new AdaptiveAvgPool2d((3, null)), LayerFixture.Single, Rtol, Atol);

    [Test]
    public void AdaptiveAvgPool2d_matches_libtorch_adaptive_avg_pool2d_forward_and_backward()
    {
        using var scope = DisposeScope.Begin();
        var dev = Torch.DefaultDevice;
        using var pool = new AdaptiveAvgPool2d((5, 3));
        var x = Torch.Randn([2, 3, 11, 7], device: dev).RequiresGrad_();
        var leaves = LayerParity.LeafCopies(x);
        var ours = LayerParity.ForwardBackward(() => [pool.Call(x)], [x]);
        var reference = LayerParity.ForwardBackward(() => [Op.Get("aten::adaptive_avg_pool2d").Call(leaves[0], new long[] { 5, 3 })], leaves);
        LayerParity.AssertSame(ours, reference, ["input"], LayerParity.SameOpTolerance(ours.Outputs[0].Device), "AdaptiveAvgPool2d vs aten::adaptive_avg_pool2d");
    }

    [Test]
    public void AdaptiveAvgPool2d_rejects_bad_input_naming_layer_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        using var pool = new AdaptiveAvgPool2d(1);
        var ex = Assert.Throws<ArgumentException>(() => pool.Call(Torch.Zeros([8, 16], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("AdaptiveAvgPool2d(output_size=1)").And.Contain("[N, C, H, W]").And.Contain("[8, 16]"));
    }
}
