using Engine.Nn;

namespace Engine.Tests.Nn;

public class MultiheadAttentionTests
{
    // Against Python PyTorch's module: bit-exact on this machine (same libtorch kernels); the
    // tolerance only allows float32 sums reordered by another thread count.
    const double Rtol = 1e-6, Atol = 1e-6;

    static Func<MultiheadAttention, IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor?>> Run(
        bool selfAttention = false, bool sharedKV = false, bool needWeights = true, bool average = true) => (m, x) =>
    {
        var q = x["query"];
        Tensor k, v;
        if (selfAttention) k = v = q;
        else if (sharedKV) k = v = x["key"];
        else (k, v) = (x["key"], x["value"]);
        var (output, weights) = m.Call(q, k, v, x.GetValueOrDefault("key_padding_mask"), needWeights, x.GetValueOrDefault("attn_mask"), average);
        return new Dictionary<string, Tensor?> { ["output"] = output, ["weights"] = weights };
    };

    // PyTorch prints out_proj as NonDynamicallyQuantizableLinear (a Linear subclass for quantization); ours is a Linear.
    [Test]
    public void MultiheadAttention_self_attention_matches_pytorch_module() =>
        LayerFixture.Get("mha_self").Check(() => new MultiheadAttention(8, 2, device: Device.CPU), Run(selfAttention: true), Rtol, Atol, checkRepr: false);

    [Test]
    public void MultiheadAttention_batch_first_with_padding_and_float_masks_per_head_weights_matches_pytorch_module() =>
        LayerFixture.Get("mha_cross_batchfirst_masks_per_head").Check(() => new MultiheadAttention(8, 4, batchFirst: true, device: Device.CPU),
            Run(sharedKV: true, average: false), Rtol, Atol, checkRepr: false);

    [Test]
    public void MultiheadAttention_kdim_vdim_bias_kv_zero_attn_without_bias_matches_pytorch_module() =>
        LayerFixture.Get("mha_kdim_vdim_biaskv_zeroattn_nobias").Check(
            () => new MultiheadAttention(8, 2, bias: false, kdim: 5, vdim: 6, addBiasKV: true, addZeroAttn: true, device: Device.CPU),
            Run(), Rtol, Atol, checkRepr: false);

    [Test]
    public void MultiheadAttention_attention_dropout_in_train_mode_matches_pytorch_module() =>
        LayerFixture.Get("mha_dropout_train_no_weights").Check(() => new MultiheadAttention(8, 2, dropout: 0.25, device: Device.CPU),
            Run(needWeights: false), Rtol, Atol, checkRepr: false);

    [Test]
    public void MultiheadAttention_unbatched_with_key_padding_mask_matches_pytorch_module() =>
        LayerFixture.Get("mha_unbatched_kpm").Check(() => new MultiheadAttention(6, 3, device: Device.CPU), Run(), Rtol, Atol, checkRepr: false);

    [Test]
    public void MultiheadAttention_float_key_padding_and_bool_attention_masks_in_eval_match_pytorch_module() =>
        LayerFixture.Get("mha_float_kpm_bool_attn_eval").Check(() => new MultiheadAttention(8, 2, batchFirst: true, device: Device.CPU),
            Run(), Rtol, Atol, checkRepr: false);

    [Test]
    public void MultiheadAttention_default_init_equals_pytorch_after_same_seed() =>
        LayerFixture.CheckInit("mha", () => new MultiheadAttention(16, 4, device: Device.CPU));

    [Test]
    public void MultiheadAttention_with_kdim_vdim_and_bias_kv_default_init_equals_pytorch_after_same_seed() =>
        LayerFixture.CheckInit("mha_kdim_biaskv", () => new MultiheadAttention(16, 4, kdim: 10, vdim: 12, addBiasKV: true, device: Device.CPU));

    /// <summary>libtorch's fused inference kernel (what PyTorch's fast path calls) has no backward
    /// in 1.13: forward only, under no-grad. It orders the arithmetic differently (scales q
    /// before the product), hence the float32 rounding tolerance.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void MultiheadAttention_matches_libtorch_native_multi_head_attention_forward(bool keyPadding)
    {
        using var scope = DisposeScope.Begin();
        using var noGrad = Torch.NoGrad();
        var dev = Torch.DefaultDevice;
        using var mha = new MultiheadAttention(8, 2, batchFirst: true, device: dev);
        LayerParity.LoadFixedWeights(mha, 109);
        mha.Eval();
        var x = Torch.Randn([3, 5, 8], device: dev);
        var kpm = keyPadding ? Torch.FromArray(new[] { false, false, true, false, true, false, false, false, false, false, true, true, false, false, false }, 3, 5).To(dev) : null;
        var (output, weights) = mha.Forward(x, keyPaddingMask: kpm);
        var r = Op.Get("aten::_native_multi_head_attention").CallTensors(x, x, x, 8L, 2L, mha.InProjWeight!, mha.InProjBias!,
            mha.OutProj.Weight, mha.OutProj.Bias!, kpm, true, true, keyPadding ? 1L : Arg.None);
        LayerParity.AssertClose(output, r[0], 1e-5, 1e-6, "output vs aten::_native_multi_head_attention");
        LayerParity.AssertClose(weights!, r[1], 1e-5, 1e-6, "weights vs aten::_native_multi_head_attention");
    }

    [Test]
    public void MultiheadAttention_gradients_pass_a_float64_gradient_check()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(5);
        using var mha = new MultiheadAttention(4, 2, kdim: 3, vdim: 5, addBiasKV: true, device: Device.CPU);
        mha.To(ScalarType.Float64);
        var q = Torch.Randn([3, 2, 4], ScalarType.Float64, Device.CPU).RequiresGrad_();
        var k = Torch.Randn([4, 2, 3], ScalarType.Float64, Device.CPU).RequiresGrad_();
        var v = Torch.Randn([4, 2, 5], ScalarType.Float64, Device.CPU).RequiresGrad_();
        var mask = Torch.FromArray(new[] { false, true, false, false, false, false, false, true }, 2, 4).To(Device.CPU);
        var result = GradCheck.Check(t => mha.Forward(t[0], t[1], t[2], keyPaddingMask: mask).Output, [q, k, v]);
        Assert.That(result.Passed, result.Report);
    }

    [Test]
    public void MultiheadAttention_rejects_bad_shapes_naming_layer_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        using var mha = new MultiheadAttention(8, 2, batchFirst: true, device: Device.CPU);
        var q = Torch.Zeros([2, 4, 8], device: Device.CPU);
        var ex = Assert.Throws<ArgumentException>(() => mha.Forward(q, Torch.Zeros([2, 5, 6], device: Device.CPU), Torch.Zeros([2, 5, 6], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)").And.Contain("[2, 5, 6]").And.Contain("[2, 4, 8]"));
        var kpm = Assert.Throws<ArgumentException>(() => mha.Forward(q, keyPaddingMask: Torch.Zeros([4, 2], ScalarType.Bool, Device.CPU)));
        Assert.That(kpm!.Message, Does.Contain("MultiheadAttention(").And.Contain("key_padding_mask").And.Contain("[2, 4]").And.Contain("[4, 2]"));
        var am = Assert.Throws<ArgumentException>(() => mha.Forward(q, attnMask: Torch.Zeros([3, 4, 4], device: Device.CPU)));
        Assert.That(am!.Message, Does.Contain("attn_mask").And.Contain("[4, 4, 4]").And.Contain("[3, 4, 4]"));
        Assert.Throws<ArgumentException>(() => new MultiheadAttention(10, 3));
    }
}
