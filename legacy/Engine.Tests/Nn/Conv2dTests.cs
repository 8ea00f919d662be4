using Engine.Nn;

namespace Engine.Tests.Nn;

public class Conv2dTests
{
    // Against Python PyTorch's module: bit-exact on this machine (same libtorch kernels); the
    // tolerance only allows float32 sums reordered by another thread count.
    const double Rtol = 1e-6, Atol = 1e-6;

    static Conv2d Make(string name) => name switch
    {
        "conv2d_groups_rect" => new Conv2d(4, 6, (3, 2), stride: (2, 1), padding: (1, 0), dilation: (1, 2), groups: 2, device: Device.CPU),
        "conv2d_same_circular" => new Conv2d(3, 4, 3, padding: "same", paddingMode: PaddingMode.Circular, device: Device.CPU),
        "conv2d_same_dilated_nobias" => new Conv2d(3, 4, 4, padding: "same", dilation: 2, bias: false, device: Device.CPU),
        "conv2d_replicate_unbatched" => new Conv2d(3, 4, 3, stride: 2, padding: 1, paddingMode: PaddingMode.Replicate, device: Device.CPU),
        _ => throw new ArgumentException(name),
    };

    [TestCase("conv2d_groups_rect")]
    [TestCase("conv2d_same_circular")]
    [TestCase("conv2d_same_dilated_nobias")]
    [TestCase("conv2d_replicate_unbatched")]
    public void Conv2d_matches_pytorch_module_init_outputs_and_gradients(string name) =>
        LayerFixture.Get(name).Check(() => Make(name), LayerFixture.Single, Rtol, Atol);

    [Test]
    public void Conv2d_default_init_equals_pytorch_after_same_seed() =>
        LayerFixture.CheckInit("conv2d", () => new Conv2d(6, 10, (3, 5), groups: 2, device: Device.CPU));

    [Test]
    public void Conv2d_matches_libtorch_conv2d_forward_and_backward()
    {
        using var scope = DisposeScope.Begin();
        var dev = Torch.DefaultDevice;
        using var conv = new Conv2d(4, 6, (3, 2), stride: (2, 1), padding: (1, 2), dilation: (1, 2), groups: 2, device: dev);
        LayerParity.LoadFixedWeights(conv, 102);
        var x = Torch.Randn([2, 4, 9, 8], device: dev).RequiresGrad_();
        var leaves = LayerParity.LeafCopies(x, conv.Weight, conv.Bias!);
        var ours = LayerParity.ForwardBackward(() => [conv.Call(x)], [x, conv.Weight, conv.Bias!]);
        var reference = LayerParity.ForwardBackward(
            () => [Op.Get("aten::conv2d").Call(leaves[0], leaves[1], leaves[2], new long[] { 2, 1 }, new long[] { 1, 2 }, new long[] { 1, 2 }, 2)], leaves);
        LayerParity.AssertSame(ours, reference, ["input", "weight", "bias"], LayerParity.SameOpTolerance(ours.Outputs[0].Device), "Conv2d vs aten::conv2d");
    }

    [Test]
    public void Conv2d_same_padding_matches_libtorch_conv2d_padding_overload()
    {
        using var scope = DisposeScope.Begin();
        var dev = Torch.DefaultDevice;
        using var conv = new Conv2d(3, 5, (4, 3), padding: "same", dilation: (2, 1), device: dev);
        LayerParity.LoadFixedWeights(conv, 103);
        var x = Torch.Randn([2, 3, 7, 6], device: dev).RequiresGrad_();
        var leaves = LayerParity.LeafCopies(x, conv.Weight, conv.Bias!);
        var ours = LayerParity.ForwardBackward(() => [conv.Call(x)], [x, conv.Weight, conv.Bias!]);
        var reference = LayerParity.ForwardBackward(
            () => [Op.Get("aten::conv2d", "padding").Call(leaves[0], leaves[1], leaves[2], new long[] { 1, 1 }, "same", new long[] { 2, 1 }, 1)], leaves);
        LayerParity.AssertSame(ours, reference, ["input", "weight", "bias"], LayerParity.SameOpTolerance(ours.Outputs[0].Device), "Conv2d same vs aten::conv2d.padding");
        Assert.That(ours.Outputs[0].Shape, Is.EqualTo(new long[] { 2, 5, 7, 6 }));
    }

    [Test]
    public void Conv2d_rejects_bad_input_naming_layer_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        using var conv = new Conv2d(3, 8, 3, device: Device.CPU);
        var ex = Assert.Throws<ArgumentException>(() => conv.Call(Torch.Zeros([2, 4, 10, 10], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1))").And.Contain("[N, 3, H, W]").And.Contain("[2, 4, 10, 10]"));
        var rank = Assert.Throws<ArgumentException>(() => conv.Call(Torch.Zeros([3, 10], device: Device.CPU)));
        Assert.That(rank!.Message, Does.Contain("Conv2d(").And.Contain("[3, 10]"));
        var small = Assert.Throws<ArgumentException>(() => conv.Call(Torch.Zeros([1, 3, 2, 10], device: Device.CPU)));
        Assert.That(small!.Message, Does.Contain("Conv2d(").And.Contain("[1, 3, 2, 10]").And.Contain("too small"));
        Assert.Throws<ArgumentException>(() => new Conv2d(3, 8, 3, padding: "full"));
        Assert.Throws<ArgumentException>(() => new Conv2d(4, 6, 3, groups: 4));
    }
}
