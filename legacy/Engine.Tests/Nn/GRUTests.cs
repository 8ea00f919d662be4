using Engine.Nn;

namespace Engine.Tests.Nn;

public class GRUTests
{
    // Against Python PyTorch's module: bit-exact on this machine (same libtorch kernels); the
    // tolerance only allows float32 sums reordered by another thread count.
    const double Rtol = 1e-6, Atol = 1e-6;

    static IReadOnlyDictionary<string, Tensor?> Run(GRU m, IReadOnlyDictionary<string, Tensor> x)
    {
        var (output, h) = m.Call(x["input"], x.GetValueOrDefault("h0"));
        return new Dictionary<string, Tensor?> { ["output"] = output, ["h"] = h };
    }

    static GRU Make(string name) => name switch
    {
        "gru_basic" => new GRU(5, 4, device: Device.CPU),
        "gru_2layer_bidir_batchfirst_h0" => new GRU(5, 4, numLayers: 2, bidirectional: true, batchFirst: true, device: Device.CPU),
        "gru_dropout_nobias_unbatched" => new GRU(5, 4, numLayers: 3, dropout: 0.3, bias: false, device: Device.CPU),
        _ => throw new ArgumentException(name),
    };

    [TestCase("gru_basic")]
    [TestCase("gru_2layer_bidir_batchfirst_h0")]
    [TestCase("gru_dropout_nobias_unbatched")]
    public void GRU_matches_pytorch_module_init_outputs_and_gradients(string name) =>
        LayerFixture.Get(name).Check(() => Make(name), Run, Rtol, Atol);

    [Test]
    public void GRU_default_init_equals_pytorch_after_same_seed() =>
        LayerFixture.CheckInit("gru", () => new GRU(12, 9, numLayers: 2, device: Device.CPU));

    [Test]
    public void GRU_matches_libtorch_gru_forward_and_backward()
    {
        using var scope = DisposeScope.Begin();
        var dev = Torch.DefaultDevice;
        using var gru = new GRU(6, 5, numLayers: 2, bidirectional: true, dropout: 0.2, device: dev);
        LayerParity.LoadFixedWeights(gru, 107);
        var x = Torch.Randn([7, 3, 6], device: dev).RequiresGrad_();
        var h0 = Torch.Randn([4, 3, 5], device: dev).RequiresGrad_();
        var weights = gru.FlatWeights.ToArray<Tensor>();
        var leaves = LayerParity.LeafCopies([x, h0, .. weights]);
        Torch.ManualSeed(78);
        var ours = LayerParity.ForwardBackward(() =>
        {
            var (o, h) = gru.Call(x, h0);
            return [o, h];
        }, [x, h0, .. weights]);
        Torch.ManualSeed(78);
        var reference = LayerParity.ForwardBackward(() => Op.Get("aten::gru", "input").CallTensors(
            leaves[0], leaves[1], leaves[2..], true, 2L, 0.2, true, true, false), leaves);
        string[] names = ["input", "h0", .. gru.NamedParameters().Select(p => p.Name)];
        LayerParity.AssertSame(ours, reference, names, LayerParity.SameOpTolerance(ours.Outputs[0].Device), "GRU vs aten::gru");
    }

    [Test]
    public void GRU_rejects_bad_input_and_state_naming_layer_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        using var gru = new GRU(5, 4, batchFirst: true, device: Device.CPU);
        var ex = Assert.Throws<ArgumentException>(() => gru.Call(Torch.Zeros([2, 3, 4, 5], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("GRU(5, 4, batch_first=True)").And.Contain("[N, L, 5]").And.Contain("[2, 3, 4, 5]"));
        var state = Assert.Throws<ArgumentException>(() => gru.Call(Torch.Zeros([2, 6, 5], device: Device.CPU), Torch.Zeros([1, 3, 4], device: Device.CPU)));
        Assert.That(state!.Message, Does.Contain("GRU(5, 4, batch_first=True)").And.Contain("h_0").And.Contain("[1, 2, 4]").And.Contain("[1, 3, 4]"));
        var unbatched = Assert.Throws<ArgumentException>(() => gru.Call(Torch.Zeros([6, 5], device: Device.CPU), Torch.Zeros([1, 1, 4], device: Device.CPU)));
        Assert.That(unbatched!.Message, Does.Contain("[1, 4]").And.Contain("[1, 1, 4]").And.Contain("unbatched"));
    }
}
