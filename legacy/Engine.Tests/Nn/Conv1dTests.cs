using Engine.Nn;

namespace Engine.Tests.Nn;

public class Conv1dTests
{
    // Against Python PyTorch's module: bit-exact on this machine (same libtorch kernels); the
    // tolerance only allows float32 sums reordered by another thread count.
    const double Rtol = 1e-6, Atol = 1e-6;

    static Conv1d Make(string name) => name switch
    {
        "conv1d_groups_stride" => new Conv1d(4, 6, 3, stride: 2, padding: 1, groups: 2, device: Device.CPU),
        "conv1d_same_reflect_dilated_nobias" => new Conv1d(3, 5, 4, padding: "same", dilation: 2, paddingMode: PaddingMode.Reflect, bias: false, device: Device.CPU),
        "conv1d_valid_unbatched" => new Conv1d(3, 4, 3, padding: "valid", device: Device.CPU),
        _ => throw new ArgumentException(name),
    };

    [TestCase("conv1d_groups_stride")]
    [TestCase("conv1d_same_reflect_dilated_nobias")]
    [TestCase("conv1d_valid_unbatched")]
    public void Conv1d_matches_pytorch_module_init_outputs_and_gradients(string name) =>
        LayerFixture.Get(name).Check(() => Make(name), LayerFixture.Single, Rtol, Atol);

    [Test]
    public void Conv1d_default_init_equals_pytorch_after_same_seed() =>
        LayerFixture.CheckInit("conv1d", () => new Conv1d(7, 9, 4, bias: false, device: Device.CPU));

    [Test]
    public void Conv1d_matches_libtorch_conv1d_forward_and_backward()
    {
        using var scope = DisposeScope.Begin();
        var dev = Torch.DefaultDevice;
        using var conv = new Conv1d(4, 6, 3, stride: 2, padding: 2, dilation: 2, groups: 2, device: dev);
        LayerParity.LoadFixedWeights(conv, 101);
        var x = Torch.Randn([3, 4, 13], device: dev).RequiresGrad_();
        var leaves = LayerParity.LeafCopies(x, conv.Weight, conv.Bias!);
        var ours = LayerParity.ForwardBackward(() => [conv.Call(x)], [x, conv.Weight, conv.Bias!]);
        var reference = LayerParity.ForwardBackward(
            () => [Op.Get("aten::conv1d").Call(leaves[0], leaves[1], leaves[2], new long[] { 2 }, new long[] { 2 }, new long[] { 2 }, 2)], leaves);
        LayerParity.AssertSame(ours, reference, ["input", "weight", "bias"], LayerParity.SameOpTolerance(ours.Outputs[0].Device), "Conv1d vs aten::conv1d");
    }

    [Test]
    public void Conv1d_rejects_wrong_channels_naming_layer_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        using var conv = new Conv1d(3, 8, 5, device: Device.CPU);
        var ex = Assert.Throws<ArgumentException>(() => conv.Call(Torch.Zeros([2, 4, 10], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("Conv1d(3, 8, kernel_size=(5,), stride=(1,))").And.Contain("[N, 3, L]").And.Contain("[2, 4, 10]"));
        var tooShort = Assert.Throws<ArgumentException>(() => conv.Call(Torch.Zeros([2, 3, 4], device: Device.CPU)));
        Assert.That(tooShort!.Message, Does.Contain("Conv1d(").And.Contain("[2, 3, 4]").And.Contain("too small"));
        Assert.Throws<ArgumentException>(() => new Conv1d(3, 8, 5, padding: "same", stride: 2));
        Assert.Throws<ArgumentException>(() => new Conv1d(3, 8, 5, groups: 2));
    }
}
