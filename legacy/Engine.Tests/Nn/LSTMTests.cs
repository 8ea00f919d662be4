using Engine.Nn;

namespace Engine.Tests.Nn;

public class LSTMTests
{
    // Against Python PyTorch's module: bit-exact on this machine (same libtorch kernels); the
    // tolerance only allows float32 sums reordered by another thread count.
    const double Rtol = 1e-6, Atol = 1e-6;

    static IReadOnlyDictionary<string, Tensor?> Run(LSTM m, IReadOnlyDictionary<string, Tensor> x)
    {
        var (output, (h, c)) = x.ContainsKey("h0") ? m.Call(x["input"], (x["h0"], x["c0"])) : m.Call(x["input"]);
        return new Dictionary<string, Tensor?> { ["output"] = output, ["h"] = h, ["c"] = c };
    }

    static LSTM Make(string name) => name switch
    {
        "lstm_basic" => new LSTM(5, 4, device: Device.CPU),
        "lstm_2layer_bidir_batchfirst_hx" => new LSTM(5, 4, numLayers: 2, bidirectional: true, batchFirst: true, device: Device.CPU),
        "lstm_dropout_train" => new LSTM(5, 4, numLayers: 3, dropout: 0.5, device: Device.CPU),
        "lstm_proj_nobias_unbatched" => new LSTM(5, 6, projSize: 3, bias: false, numLayers: 2, bidirectional: true, device: Device.CPU),
        _ => throw new ArgumentException(name),
    };

    [TestCase("lstm_basic")]
    [TestCase("lstm_2layer_bidir_batchfirst_hx")]
    [TestCase("lstm_dropout_train")]
    [TestCase("lstm_proj_nobias_unbatched")]
    public void LSTM_matches_pytorch_module_init_outputs_and_gradients(string name) =>
        LayerFixture.Get(name).Check(() => Make(name), Run, Rtol, Atol);

    [Test]
    public void LSTM_default_init_equals_pytorch_after_same_seed() =>
        LayerFixture.CheckInit("lstm", () => new LSTM(12, 9, numLayers: 2, bidirectional: true, device: Device.CPU));

    [Test]
    public void LSTM_matches_libtorch_lstm_with_dropout_between_layers()
    {
        using var scope = DisposeScope.Begin();
        var dev = Torch.DefaultDevice;
        using var lstm = new LSTM(6, 5, numLayers: 2, batchFirst: true, bidirectional: true, dropout: 0.3, device: dev);
        LayerParity.LoadFixedWeights(lstm, 106);
        var x = Torch.Randn([3, 7, 6], device: dev).RequiresGrad_();
        var h0 = Torch.Randn([4, 3, 5], device: dev).RequiresGrad_();
        var c0 = Torch.Randn([4, 3, 5], device: dev).RequiresGrad_();
        var weights = lstm.FlatWeights.ToArray<Tensor>();
        var leaves = LayerParity.LeafCopies([x, h0, c0, .. weights]);
        Torch.ManualSeed(77);
        var ours = LayerParity.ForwardBackward(() =>
        {
            var (o, (h, c)) = lstm.Call(x, (h0, c0));
            return [o, h, c];
        }, [x, h0, c0, .. weights]);
        Torch.ManualSeed(77); // the same dropout masks
        var reference = LayerParity.ForwardBackward(() => Op.Get("aten::lstm", "input").CallTensors(
            leaves[0], new[] { leaves[1], leaves[2] }, leaves[3..], true, 2L, 0.3, true, true, true), leaves);
        string[] names = ["input", "h0", "c0", .. lstm.NamedParameters().Select(p => p.Name)];
        LayerParity.AssertSame(ours, reference, names, LayerParity.SameOpTolerance(ours.Outputs[0].Device), "LSTM vs aten::lstm");
        Assert.That(ours.Outputs[0].Shape, Is.EqualTo(new long[] { 3, 7, 10 }));
    }

    [Test]
    public void LSTM_parameters_have_pytorch_names_and_order()
    {
        using var lstm = new LSTM(3, 2, numLayers: 2, bidirectional: true, device: Device.CPU);
        Assert.That(lstm.NamedParameters().Select(p => p.Name), Is.EqualTo(new[]
        {
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
            "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse",
        }));
        Assert.That(lstm.NamedParameters().First(p => p.Name == "weight_ih_l1").Parameter.Shape, Is.EqualTo(new long[] { 8, 4 }));
    }

    [Test]
    public void LSTM_rejects_bad_input_and_state_naming_layer_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        using var lstm = new LSTM(5, 4, numLayers: 2, device: Device.CPU);
        var ex = Assert.Throws<ArgumentException>(() => lstm.Call(Torch.Zeros([6, 3, 7], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("LSTM(5, 4, num_layers=2)").And.Contain("[L, N, 5]").And.Contain("[6, 3, 7]"));
        var state = Assert.Throws<ArgumentException>(() =>
            lstm.Call(Torch.Zeros([6, 3, 5], device: Device.CPU), (Torch.Zeros([2, 3, 4], device: Device.CPU), Torch.Zeros([1, 3, 4], device: Device.CPU))));
        Assert.That(state!.Message, Does.Contain("LSTM(5, 4, num_layers=2)").And.Contain("c_0").And.Contain("[2, 3, 4]").And.Contain("[1, 3, 4]"));
        var dtype = Assert.Throws<ArgumentException>(() => lstm.Call(Torch.Zeros([6, 3, 5], ScalarType.Float64, Device.CPU)));
        Assert.That(dtype!.Message, Does.Contain("LSTM(").And.Contain("float64"));
    }
}
