using Engine.Nn;

namespace Engine.Tests.Nn;

public class ConvTranspose2dTests
{
    // Against Python PyTorch's module: bit-exact on this machine (same libtorch kernels); the
    // tolerance only allows float32 sums reordered by another thread count.
    const double Rtol = 1e-6, Atol = 1e-6;

    [Test]
    public void ConvTranspose2d_matches_pytorch_module_with_groups_and_output_padding() =>
        LayerFixture.Get("convtranspose2d_groups_outpad").Check(
            () => new ConvTranspose2d(4, 6, 3, stride: 2, padding: 1, outputPadding: 1, groups: 2, device: Device.CPU),
            LayerFixture.Single, Rtol, Atol);

    [Test]
    public void ConvTranspose2d_matches_pytorch_module_with_output_size() =>
        LayerFixture.Get("convtranspose2d_output_size").Check(
            () => new ConvTranspose2d(3, 2, (3, 4), stride: (2, 3), padding: (1, 2), dilation: (2, 1), bias: false, device: Device.CPU),
            (m, x) => new Dictionary<string, Tensor?> { ["output"] = m.Forward(x["input"], [10, 11]) }, Rtol, Atol);

    [Test]
    public void ConvTranspose2d_default_init_equals_pytorch_after_same_seed() =>
        LayerFixture.CheckInit("convtranspose2d", () => new ConvTranspose2d(6, 4, 3, groups: 2, device: Device.CPU));

    [Test]
    public void ConvTranspose2d_matches_libtorch_conv_transpose2d_forward_and_backward()
    {
        using var scope = DisposeScope.Begin();
        var dev = Torch.DefaultDevice;
        using var conv = new ConvTranspose2d(4, 6, (3, 2), stride: (2, 3), padding: (1, 0), outputPadding: (1, 2), groups: 2, dilation: (1, 2), device: dev);
        LayerParity.LoadFixedWeights(conv, 104);
        var x = Torch.Randn([2, 4, 5, 4], device: dev).RequiresGrad_();
        var leaves = LayerParity.LeafCopies(x, conv.Weight, conv.Bias!);
        var ours = LayerParity.ForwardBackward(() => [conv.Call(x)], [x, conv.Weight, conv.Bias!]);
        var reference = LayerParity.ForwardBackward(
            () => [Op.Get("aten::conv_transpose2d", "input").Call(leaves[0], leaves[1], leaves[2], new long[] { 2, 3 }, new long[] { 1, 0 },
                new long[] { 1, 2 }, 2, new long[] { 1, 2 })], leaves);
        LayerParity.AssertSame(ours, reference, ["input", "weight", "bias"], LayerParity.SameOpTolerance(ours.Outputs[0].Device), "ConvTranspose2d vs aten::conv_transpose2d");
        Assert.That(ours.Outputs[0].Shape, Is.EqualTo(new long[] { 2, 6, 10, 14 }));
    }

    [Test]
    public void ConvTranspose2d_rejects_bad_input_naming_layer_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        using var conv = new ConvTranspose2d(4, 2, 3, stride: 2, device: Device.CPU);
        var ex = Assert.Throws<ArgumentException>(() => conv.Call(Torch.Zeros([1, 3, 5, 5], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("ConvTranspose2d(4, 2, kernel_size=(3, 3), stride=(2, 2))").And.Contain("[N, 4, H, W]").And.Contain("[1, 3, 5, 5]"));
        var size = Assert.Throws<ArgumentException>(() => conv.Forward(Torch.Zeros([1, 4, 5, 5], device: Device.CPU), [20, 11]));
        Assert.That(size!.Message, Does.Contain("ConvTranspose2d(").And.Contain("[20, 11]").And.Contain("[11]").And.Contain("[12]"));
        Assert.Throws<ArgumentException>(() => new ConvTranspose2d(4, 2, 3, stride: 2, outputPadding: 2));
    }
}
