using Engine.Nn;

namespace Engine.Tests.Nn;

public class MaxPool2dTests
{
    // Max pooling copies values: outputs and gradients are exact.
    const double Rtol = 0, Atol = 0;

    [Test]
    public void MaxPool2d_matches_pytorch_module_with_padding() =>
        LayerFixture.Get("maxpool2d_pad").Check(() => new MaxPool2d(3, stride: 2, padding: 1), LayerFixture.Single, Rtol, Atol);

    [Test]
    public void MaxPool2d_with_indices_matches_pytorch_module_with_dilation_and_ceil_mode() =>
        LayerFixture.Get("maxpool2d_dilated_ceil_indices").Check(
            () => new MaxPool2d((2, 3), stride: (2, 1), dilation: (1, 2), ceilMode: true),
            (m, x) =>
            {
                var (y, i) = m.ForwardWithIndices(x["input"]);
                return new Dictionary<string, Tensor?> { ["output"] = y, ["indices"] = i };
            }, Rtol, Atol);

    [Test]
    public void MaxPool2d_matches_libtorch_max_pool2d_forward_and_backward()
    {
        using var scope = DisposeScope.Begin();
        var dev = Torch.DefaultDevice;
        using var pool = new MaxPool2d((3, 2), stride: (2, 1), padding: (1, 1), dilation: (1, 2));
        var x = Torch.Randn([2, 3, 9, 8], device: dev).RequiresGrad_();
        var leaves = LayerParity.LeafCopies(x);
        var ours = LayerParity.ForwardBackward(() => [pool.Call(x)], [x]);
        var reference = LayerParity.ForwardBackward(
            () => [Op.Get("aten::max_pool2d").Call(leaves[0], new long[] { 3, 2 }, new long[] { 2, 1 }, new long[] { 1, 1 }, new long[] { 1, 2 }, false)], leaves);
        LayerParity.AssertSame(ours, reference, ["input"], LayerParity.SameOpTolerance(ours.Outputs[0].Device), "MaxPool2d vs aten::max_pool2d");
    }

    [Test]
    public void MaxPool2d_rejects_bad_input_naming_layer_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        using var pool = new MaxPool2d(3);
        var ex = Assert.Throws<ArgumentException>(() => pool.Call(Torch.Zeros([5, 5], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("MaxPool2d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)")
            .And.Contain("[N, C, H, W]").And.Contain("[5, 5]"));
        var small = Assert.Throws<ArgumentException>(() => pool.Call(Torch.Zeros([1, 2, 2, 5], device: Device.CPU)));
        Assert.That(small!.Message, Does.Contain("MaxPool2d(").And.Contain("[1, 2, 2, 5]").And.Contain("too small"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MaxPool2d(2, padding: 2));
    }
}
