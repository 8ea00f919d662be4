using Engine.Nn;

namespace Engine.Tests.Nn;

public class EmbeddingTests
{
    // Against Python PyTorch's module: bit-exact on this machine (same libtorch kernels); the
    // tolerance only allows float32 sums reordered by another thread count.
    const double Rtol = 1e-6, Atol = 1e-6;

    [Test]
    public void Embedding_with_padding_idx_matches_pytorch_module() =>
        LayerFixture.Get("embedding_padding_idx").Check(() => new Embedding(10, 4, paddingIdx: 2, device: Device.CPU), LayerFixture.Single, Rtol, Atol);

    [Test]
    public void Embedding_with_max_norm_renormalizes_rows_like_pytorch_module() =>
        LayerFixture.Get("embedding_max_norm").Check(() => new Embedding(10, 4, maxNorm: 1.0, device: Device.CPU), LayerFixture.Single, Rtol, Atol);

    [Test]
    public void Embedding_with_negative_padding_idx_and_frequency_scaling_matches_pytorch_module() =>
        LayerFixture.Get("embedding_negative_padding_scale_grad").Check(
            () => new Embedding(10, 3, paddingIdx: -1, scaleGradByFreq: true, device: Device.CPU), LayerFixture.Single, Rtol, Atol);

    [Test]
    public void Embedding_default_init_equals_pytorch_after_same_seed() =>
        LayerFixture.CheckInit("embedding", () => new Embedding(50, 16, paddingIdx: 3, device: Device.CPU));

    [Test]
    public void Embedding_matches_libtorch_embedding_forward_and_backward()
    {
        using var scope = DisposeScope.Begin();
        var dev = Torch.DefaultDevice;
        using var emb = new Embedding(12, 5, paddingIdx: 4, scaleGradByFreq: true, device: dev);
        LayerParity.LoadFixedWeights(emb, 105);
        var idx = Torch.FromArray(new long[] { 0, 4, 4, 11, 3, 3, 3, 7, 4, 1, 0, 9 }, 3, 4).To(dev);
        var leaves = LayerParity.LeafCopies(emb.Weight);
        var ours = LayerParity.ForwardBackward(() => [emb.Call(idx)], [emb.Weight]);
        var reference = LayerParity.ForwardBackward(() => [Op.Get("aten::embedding").Call(leaves[0], idx, 4, true, false)], leaves);
        LayerParity.AssertSame(ours, reference, ["weight"], LayerParity.SameOpTolerance(ours.Outputs[0].Device), "Embedding vs aten::embedding");
        using var padRow = ours.Grads[0]!.Select(0, 4);
        Assert.That(padRow.Abs().Sum().ToDouble(), Is.EqualTo(0), "the padding row gets no gradient");
    }

    [Test]
    public void Embedding_from_pretrained_shares_the_table_and_is_frozen_by_default()
    {
        using var scope = DisposeScope.Begin();
        var table = Torch.Randn([6, 3], device: Device.CPU);
        using var emb = Embedding.FromPretrained(table);
        Assert.That(emb.Weight.RequiresGrad, Is.False);
        Assert.That(emb.Weight.DataPointer, Is.EqualTo(table.DataPointer));
        var rows = emb.Call(Torch.FromArray(new long[] { 5, 0 }).To(Device.CPU));
        LayerParity.AssertExact(rows, table.IndexSelect(0, Torch.FromArray(new long[] { 5, 0 }).To(Device.CPU)), "FromPretrained lookup");
    }

    [Test]
    public void Embedding_rejects_float_indices_and_out_of_range_indices_naming_layer()
    {
        using var scope = DisposeScope.Begin();
        using var emb = new Embedding(10, 4, paddingIdx: 0, device: Device.CPU);
        var ex = Assert.Throws<ArgumentException>(() => emb.Call(Torch.Zeros([2, 3], device: Device.CPU)));
        Assert.That(ex!.Message, Does.Contain("Embedding(10, 4, padding_idx=0)").And.Contain("integer").And.Contain("[2, 3]"));
        var range = Assert.Throws<ArgumentException>(() => emb.Call(Torch.FromArray(new long[] { 1, 10 }).To(Device.CPU)));
        Assert.That(range!.Message, Does.Contain("Embedding(10, 4, padding_idx=0)").And.Contain("[0, 9]").And.Contain("[2]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Embedding(10, 4, paddingIdx: 10));
    }
}
