using Engine.Nn;

namespace Engine.Tests.Nn;

/// <summary>ReLU, LeakyReLU, ELU, SELU, GELU, SiLU, Tanh, Sigmoid and Softmax: one file for the
/// family, each checked against PyTorch's module and libtorch's operator.</summary>
public class ActivationTests
{
    // Against Python PyTorch's module: bit-exact on this machine (same libtorch kernels); the
    // tolerance only allows float32 sums reordered by another thread count.
    const double Rtol = 1e-6, Atol = 1e-6;

    static Module<Tensor, Tensor> Make(string name) => name switch
    {
        "relu" => new ReLU(),
        "leakyrelu" => new LeakyReLU(0.2),
        "elu" => new ELU(alpha: 0.7),
        "selu" => new SELU(),
        "gelu" => new GELU(),
        "gelu_tanh" => new GELU(approximate: "tanh"),
        "silu" => new SiLU(),
        "tanh" => new Tanh(),
        "sigmoid" => new Sigmoid(),
        "softmax_dim1" => new Softmax(dim: 1),
        "softmax_dim_neg1" => new Softmax(dim: -1),
        _ => throw new ArgumentException(name),
    };

    /// <summary>libtorch's operator for the same activation.</summary>
    static Tensor Reference(string name, Tensor x) => name switch
    {
        "relu" => Op.Get("aten::relu").Call(x),
        "leakyrelu" => Op.Get("aten::leaky_relu").Call(x, 0.2),
        "elu" => Op.Get("aten::elu").Call(x, 0.7),
        "selu" => Op.Get("aten::selu").Call(x),
        "gelu" => Op.Get("aten::gelu").Call(x, "none"),
        "gelu_tanh" => Op.Get("aten::gelu").Call(x, "tanh"),
        "silu" => Op.Get("aten::silu").Call(x),
        "tanh" => Op.Get("aten::tanh").Call(x),
        "sigmoid" => Op.Get("aten::sigmoid").Call(x),
        "softmax_dim1" => Op.Get("aten::softmax", "int").Call(x, 1L),
        "softmax_dim_neg1" => Op.Get("aten::softmax", "int").Call(x, -1L),
        _ => throw new ArgumentException(name),
    };

    static readonly string[] Names = ["relu", "leakyrelu", "elu", "selu", "gelu", "gelu_tanh", "silu", "tanh", "sigmoid", "softmax_dim1", "softmax_dim_neg1"];

    [TestCaseSource(nameof(Names))]
    public void Activation_matches_pytorch_module_outputs_gradients_and_repr(string name) =>
        LayerFixture.Get("act_" + name).Check(() => Make(name), LayerFixture.Single, Rtol, Atol);

    [TestCaseSource(nameof(Names))]
    public void Activation_matches_libtorch_operator_forward_and_backward(string name)
    {
        using var scope = DisposeScope.Begin();
        var x = Torch.Randn([4, 5, 6], device: Torch.DefaultDevice).Mul(3).RequiresGrad_();
        using var m = Make(name);
        var leaves = LayerParity.LeafCopies(x);
        var ours = LayerParity.ForwardBackward(() => [m.Call(x)], [x]);
        var reference = LayerParity.ForwardBackward(() => [Reference(name, leaves[0])], leaves);
        LayerParity.AssertSame(ours, reference, ["input"], LayerParity.SameOpTolerance(ours.Outputs[0].Device), $"{m} vs libtorch");
    }

    [TestCase("relu")]
    [TestCase("leakyrelu")]
    [TestCase("elu")]
    [TestCase("selu")]
    [TestCase("silu")]
    public void Inplace_activation_overwrites_its_input_and_backpropagates_like_the_out_of_place_one(string name)
    {
        using var scope = DisposeScope.Begin();
        Module<Tensor, Tensor> inplace = name switch
        {
            "relu" => new ReLU(inplace: true),
            "leakyrelu" => new LeakyReLU(0.2, inplace: true),
            "elu" => new ELU(0.7, inplace: true),
            "selu" => new SELU(inplace: true),
            _ => new SiLU(inplace: true),
        };
        Assert.That(inplace.ToString(), Does.Contain("inplace=True"));
        var x = Torch.Randn([3, 7], device: Torch.DefaultDevice).RequiresGrad_();
        var x2 = LayerParity.LeafCopies(x)[0];
        var ours = LayerParity.ForwardBackward(() =>
        {
            var pre = x.Mul(1.5); // a non-leaf, as in-place ops on leaves that require grad are refused
            var y = inplace.Call(pre);
            Assert.That(y.DataPointer, Is.EqualTo(pre.DataPointer), "in place");
            return [y];
        }, [x]);
        var reference = LayerParity.ForwardBackward(() => [Make(name).Call(x2.Mul(1.5))], [x2]);
        // ELU's and SELU's in-place backward works from the output instead of the input (as in
        // PyTorch): the same derivative, rounded differently in the last bits.
        LayerParity.AssertSame(ours, reference, ["input"], (1e-6, 1e-7), $"{inplace} vs out of place");
    }

    [Test]
    public void Softmax_rejects_a_dim_outside_the_input_naming_layer_and_shape()
    {
        using var scope = DisposeScope.Begin();
        using var softmax = new Softmax(dim: 2);
        var ex = Assert.Throws<ArgumentException>(() => softmax.Call(Torch.Zeros([4, 5], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("Softmax(dim=2)").And.Contain("[4, 5]"));
        Assert.Throws<ArgumentException>(() => new GELU("erf"));
    }
}
