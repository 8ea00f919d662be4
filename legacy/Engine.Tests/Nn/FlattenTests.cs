using Engine.Nn;

namespace Engine.Tests.Nn;

public class FlattenTests
{
    [TestCase("flatten_default", 1, -1)]
    [TestCase("flatten_0_2", 0, 2)]
    public void Flatten_matches_pytorch_module(string name, long start, long end) =>
        LayerFixture.Get(name).Check(() => new Flatten(start, end), LayerFixture.Single, 0, 0);

    [Test]
    public void Flatten_matches_libtorch_flatten_and_is_a_view()
    {
        using var scope = DisposeScope.Begin();
        var x = Torch.Randn([2, 3, 4, 5], device: Torch.DefaultDevice).RequiresGrad_();
        using var flatten = new Flatten(1, 2);
        var leaves = LayerParity.LeafCopies(x);
        var ours = LayerParity.ForwardBackward(() => [flatten.Call(x)], [x]);
        var reference = LayerParity.ForwardBackward(() => [Op.Get("aten::flatten", "using_ints").Call(leaves[0], 1, 2)], leaves);
        LayerParity.AssertSame(ours, reference, ["input"], LayerParity.SameOpTolerance(ours.Outputs[0].Device), "Flatten vs aten::flatten");
        Assert.That(ours.Outputs[0].Shape, Is.EqualTo(new long[] { 2, 12, 5 }));
        Assert.That(ours.Outputs[0].DataPointer, Is.EqualTo(x.DataPointer));
    }

    [Test]
    public void Flatten_rejects_dimensions_outside_the_input_naming_layer_and_shape()
    {
        using var scope = DisposeScope.Begin();
        using var flatten = new Flatten(2, -1);
        var ex = Assert.Throws<ArgumentException>(() => flatten.Call(Torch.Zeros([4, 5], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("Flatten(start_dim=2, end_dim=-1)").And.Contain("[4, 5]"));
    }
}
