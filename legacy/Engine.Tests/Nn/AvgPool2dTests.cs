using Engine.Nn;

namespace Engine.Tests.Nn;

public class AvgPool2dTests
{
    // Against Python PyTorch's module: bit-exact on this machine (same libtorch kernels); the
    // tolerance only allows float32 sums reordered by another thread count.
    const double Rtol = 1e-6, Atol = 1e-6;

    [Test]
    public void AvgPool2d_matches_pytorch_module_excluding_padding() =>
        LayerFixture.Get("avgpool2d_exclude_pad").Check(() => new AvgPool2d(3, stride: 2, padding: 1, countIncludePad: false),
            LayerFixture.Single, Rtol, Atol);

    [Test]
    public void AvgPool2d_matches_pytorch_module_with_ceil_mode_and_divisor() =>
        LayerFixture.Get("avgpool2d_ceil_divisor").Check(() => new AvgPool2d((2, 3), stride: (1, 2), ceilMode: true, divisorOverride: 4),
            LayerFixture.Single, Rtol, Atol);

    [Test]
    public void AvgPool2d_matches_libtorch_avg_pool2d_forward_and_backward()
    {
        using var scope = DisposeScope.Begin();
        var dev = Torch.DefaultDevice;
        using var pool = new AvgPool2d((3, 2), stride: (2, 1), padding: (1, 1), ceilMode: true);
        var x = Torch.Randn([2, 3, 9, 8], device: dev).RequiresGrad_();
        var leaves = LayerParity.LeafCopies(x);
        var ours = LayerParity.ForwardBackward(() => [pool.Call(x)], [x]);
        var reference = LayerParity.ForwardBackward(
            () => [Op.Get("aten::avg_pool2d").Call(leaves[0], new long[] { 3, 2 }, new long[] { 2, 1 }, new long[] { 1, 1 }, true, true, Arg.None)], leaves);
        LayerParity.AssertSame(ours, reference, ["input"], LayerParity.SameOpTolerance(ours.Outputs[0].Device), "AvgPool2d vs aten::avg_pool2d");
    }

    [Test]
    public void AvgPool2d_rejects_bad_input_naming_layer_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        using var pool = new AvgPool2d((2, 4));
        var ex = Assert.Throws<ArgumentException>(() => pool.Call(Torch.Zeros([1, 1, 1, 5, 5], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("AvgPool2d(kernel_size=(2, 4), stride=(2, 4), padding=0)").And.Contain("[1, 1, 1, 5, 5]"));
        var small = Assert.Throws<ArgumentException>(() => pool.Call(Torch.Zeros([3, 5, 3], device: Device.CPU)));
        Assert.That(small!.Message, Does.Contain("AvgPool2d(").And.Contain("[3, 5, 3]").And.Contain("too small"));
    }
}
