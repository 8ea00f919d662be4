namespace Engine.Tests.Init;

using Init = Engine.Init.Init;
using TorchInit = TorchSharp.torch.nn.init;

/// <summary>Init.Eye_ and Init.Dirac_ against TorchSharp's eye_/dirac_ and Python's dirac_ with
/// groups (init.json), and the property they exist for: the layer starts as the identity.</summary>
public class EyeDiracTests
{
    [TestCase(3, 5)]
    [TestCase(6, 4)]
    [TestCase(7, 7)]
    public void Eye_equals_torchsharps(long rows, long cols)
    {
        using var scope = NewDisposeScope();
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
        {
            var ours = Init.Eye_(full(rows, cols, -3.0, dtype));
            var theirs = TorchInit.eye_(full(rows, cols, -3.0, dtype));
            Assert.That(ours.bytes.ToArray(), Is.EqualTo(theirs.bytes.ToArray()));
        }
    }

    static IEnumerable<long[]> DiracShapes() => [[4, 3, 5], [3, 4, 3, 3], [6, 6, 3, 4], [2, 4, 3, 2, 3]];

    [TestCaseSource(nameof(DiracShapes))]
    public void Dirac_equals_torchsharps(long[] shape)
    {
        using var scope = NewDisposeScope();
        var ours = Init.Dirac_(full(shape, 5.0));
        var theirs = TorchInit.dirac_(full(shape, 5.0));
        Assert.That(ours.bytes.ToArray(), Is.EqualTo(theirs.bytes.ToArray()));
    }

    [TestCase("eye_wide")]
    [TestCase("eye_tall")]
    [TestCase("dirac_conv1d")]
    [TestCase("dirac_conv2d_groups2")]
    [TestCase("dirac_conv3d")]
    public void Equals_python(string name)
    {
        using var scope = NewDisposeScope();
        var f = InitFixture.Load(name);
        var t = full(f.Shape, 9.0, f.Dtype);
        if (name.StartsWith("eye")) Init.Eye_(t); else Init.Dirac_(t, (int)f.Arg("groups", 1));
        Assert.That(t.bytes.ToArray(), Is.EqualTo(f.Value.bytes.ToArray()));
    }

    [Test]
    public void A_dirac_conv_and_an_eye_linear_pass_their_input_through()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var x = randn(2, 4, 9, 9);
        var w = Init.Dirac_(empty(4, 4, 3, 3));
        // Products with 1 and sums with exact zeros: exact in direct convolution; 1e-6 leaves room for a
        // transform-based (Winograd) kernel's rounding on other CPUs.
        Assert.That(nn.functional.conv2d(x, w, padding: [1, 1]).sub(x).abs().max().item<float>(), Is.LessThan(1e-6f));
        // Grouped: 2 groups of 2 channels, each channel still maps to itself.
        var wg = Init.Dirac_(empty(4, 2, 3, 3), groups: 2);
        Assert.That(nn.functional.conv2d(x, wg, padding: [1, 1], groups: 2).sub(x).abs().max().item<float>(), Is.LessThan(1e-6f));
        var v = randn(5, 6);
        Assert.That(nn.functional.linear(v, Init.Eye_(empty(6, 6))).sub(v).abs().max().item<float>(), Is.LessThan(1e-6f));
    }

    [Test]
    public void Bad_shapes_throw_naming_the_call_and_shape()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Init.Eye_(empty(2, 3, 4)));
        Assert.That(ex!.Message, Does.Contain("Eye_").And.Contain("[2, 3, 4]"));
        ex = Assert.Throws<ArgumentException>(() => Init.Dirac_(empty(3, 3)));
        Assert.That(ex!.Message, Does.Contain("Dirac_").And.Contain("[3, 3]"));
        ex = Assert.Throws<ArgumentException>(() => Init.Dirac_(empty(5, 2, 3), groups: 2));
        Assert.That(ex!.Message, Does.Contain("groups").And.Contain("[5, 2, 3]"));
    }
}
