using Engine.Nn;

namespace Engine.Tests.Nn;

public class RNNTests
{
    // Against Python PyTorch's module: bit-exact on this machine (same libtorch kernels); the
    // tolerance only allows float32 sums reordered by another thread count.
    const double Rtol = 1e-6, Atol = 1e-6;

    static IReadOnlyDictionary<string, Tensor?> Run(RNN m, IReadOnlyDictionary<string, Tensor> x)
    {
        var (output, h) = m.Call(x["input"], x.GetValueOrDefault("h0"));
        return new Dictionary<string, Tensor?> { ["output"] = output, ["h"] = h };
    }

    [Test]
    public void RNN_relu_bidirectional_matches_pytorch_module() =>
        LayerFixture.Get("rnn_relu_bidir").Check(
            () => new RNN(5, 4, numLayers: 2, nonlinearity: "relu", bidirectional: true, device: Device.CPU), Run, Rtol, Atol);

    [Test]
    public void RNN_tanh_in_eval_mode_skips_dropout_like_pytorch_module() =>
        LayerFixture.Get("rnn_tanh_eval").Check(
            () => new RNN(5, 4, numLayers: 2, dropout: 0.5, batchFirst: true, device: Device.CPU), Run, Rtol, Atol);

    [Test]
    public void RNN_matches_libtorch_rnn_tanh_forward_and_backward()
    {
        using var scope = DisposeScope.Begin();
        var dev = Torch.DefaultDevice;
        using var rnn = new RNN(4, 3, numLayers: 2, bias: false, device: dev);
        LayerParity.LoadFixedWeights(rnn, 108);
        var x = Torch.Randn([5, 2, 4], device: dev).RequiresGrad_();
        var weights = rnn.FlatWeights.ToArray<Tensor>();
        var leaves = LayerParity.LeafCopies([x, .. weights]);
        var ours = LayerParity.ForwardBackward(() =>
        {
            var (o, h) = rnn.Call(x);
            return [o, h];
        }, [x, .. weights]);
        var reference = LayerParity.ForwardBackward(() => Op.Get("aten::rnn_tanh", "input").CallTensors(
            leaves[0], Torch.Zeros([2, 2, 3], device: dev), leaves[1..], false, 2L, 0.0, true, false, false), leaves);
        string[] names = ["input", .. rnn.NamedParameters().Select(p => p.Name)];
        LayerParity.AssertSame(ours, reference, names, LayerParity.SameOpTolerance(ours.Outputs[0].Device), "RNN vs aten::rnn_tanh");
    }

    [Test]
    public void RNN_rejects_bad_input_naming_layer_and_shape()
    {
        using var scope = DisposeScope.Begin();
        using var rnn = new RNN(5, 4, device: Device.CPU);
        var ex = Assert.Throws<ArgumentException>(() => rnn.Call(Torch.Zeros([5], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("RNN(5, 4)").And.Contain("[L, N, 5]").And.Contain("[5]"));
        Assert.Throws<ArgumentException>(() => new RNN(5, 4, nonlinearity: "sigmoid"));
    }
}
