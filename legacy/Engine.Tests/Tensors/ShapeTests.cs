namespace Engine.Tests.Tensors;

/// <summary>Views, reshaping, joining, splitting and gathering, against Python PyTorch 1.13
/// (fixture section "shape"). These ops move values without arithmetic: every comparison is
/// exact, and strides are compared where Python's are part of the behaviour.</summary>
public class ShapeTests
{
    static Expected E(string name) => Fx.E("shape", name);
    static Tensor X() => Fx.Load("shape", "x"); // torch.arange(24.).reshape(2, 3, 4)
    static Tensor Z() => Fx.Load("shape", "z"); // torch.arange(30.).reshape(5, 6)

    [Test]
    public void View_matches_python_and_shares_storage()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        var v = x.View(4, 6);
        Check.Exact(v, E("view_4_6"));
        Check.Exact(x.View(-1, 8), E("view_m1_8"));
        Assert.That(v.DataPointer, Is.EqualTo(x.DataPointer));
        v.IndexFill_(-7, 0, 0);
        Assert.That(x[0, 0, 0].Item<float>(), Is.EqualTo(-7f), "a write through the view is seen by the base");
    }

    [Test]
    public void View_of_a_non_contiguous_tensor_throws_with_the_op_name()
    {
        using var scope = DisposeScope.Begin();
        var t = X().Transpose(0, 2);
        var ex = Assert.Throws<TorchException>(() => t.View(24));
        Assert.That(ex!.Message, Does.Contain("aten::view"));
    }

    [Test]
    public void Reshape_copies_a_non_contiguous_tensor_like_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(X().Transpose(0, 2).Reshape(3, -1), E("reshape_T_3_m1"));
    }

    [Test]
    public void Permute_matches_python_values_and_strides()
    {
        using var scope = DisposeScope.Begin();
        var p = X().Permute(2, 0, 1);
        Check.Exact(p, E("permute_2_0_1"));
        Assert.That(p.Strides, Is.EqualTo(Fx.Longs("shape", "permute_2_0_1_strides")));
        Assert.That(p.IsContiguous, Is.EqualTo(Fx.Node("shape", "permute_2_0_1_contiguous").GetBoolean()));
    }

    [Test]
    public void Transpose_matches_python_values_and_strides()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        var t = x.Transpose(0, 2);
        Check.Exact(t, E("transpose_0_2"));
        Assert.That(t.Strides, Is.EqualTo(Fx.Longs("shape", "transpose_0_2_strides")));
        Check.Exact(x.Transpose(-1, -2), E("transpose_m1_m2"));
        Check.Exact(x[0].T(), E("t_2d"));
    }

    [Test]
    public void Squeeze_all_and_by_dim_match_python()
    {
        using var scope = DisposeScope.Begin();
        var s = Fx.Load("shape", "sq_src"); // shape (1, 3, 1, 2)
        Check.Exact(s.Squeeze(), E("squeeze_all"));
        Check.Exact(s.Squeeze(0), E("squeeze_0"));
        Check.Exact(s.Squeeze(2), E("squeeze_2"));
        Check.Exact(s.Squeeze(1), E("squeeze_1_noop")); // size 3: unchanged, as in Python
    }

    [Test]
    public void Unsqueeze_matches_python_including_negative_dims()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Check.Exact(x.Unsqueeze(1), E("unsqueeze_1"));
        Check.Exact(x.Unsqueeze(-1), E("unsqueeze_m1"));
    }

    [Test]
    public void Expand_broadcasts_without_copying_like_python()
    {
        using var scope = DisposeScope.Begin();
        var col = Torch.FromSpan<float>([1f, 2f, 3f], [3, 1], Device.CPU);
        var e = col.Expand(3, 4);
        Check.Exact(e, E("expand_3x1_to_3x4"));
        Assert.That(e.Strides, Is.EqualTo(Fx.Longs("shape", "expand_3x1_to_3x4_strides")));
        Assert.That(e.DataPointer, Is.EqualTo(col.DataPointer));
        Check.Exact(col.Expand(2, -1, 4), E("expand_m1_to_2x3x4"));
        Check.Exact(col.ExpandAs(Torch.Zeros([3, 4], device: Device.CPU)), E("expand_3x1_to_3x4"));
    }

    [Test]
    public void Cat_along_first_last_and_negative_dims_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        var y = Fx.Load("shape", "y");
        Check.Exact(Torch.Cat([x[.., .., ..2], y], 0), E("cat_dim0"));
        Check.Exact(Torch.Cat([x, y], 2), E("cat_dim2"));
        Check.Exact(Torch.Cat([y, y * 2, y * 3], -1), E("cat_dim_m1_three"));
    }

    [Test]
    public void Stack_inserts_a_new_dim_like_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Check.Exact(Torch.Stack([x[0], x[1]], 0), E("stack_dim0"));
        Check.Exact(Torch.Stack([x[0], x[1]], 2), E("stack_dim2"));
        Check.Exact(Torch.Stack([x[0], x[1], x[0]], -1), E("stack_dim_m1"));
    }

    [Test]
    public void Split_by_size_matches_python_with_a_short_last_piece()
    {
        using var scope = DisposeScope.Begin();
        var z = Z();
        Check.List(z.Split(2, 0), Fx.List("shape", "split_2_dim0"));
        Check.List(z.Split(4, 1), Fx.List("shape", "split_4_dim1"));
    }

    [Test]
    public void Split_by_sizes_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var z = Z();
        Check.List(z.Split([1, 3, 1], 0), Fx.List("shape", "split_sizes_1_3_1_dim0"));
        Check.List(z.Split([2, 4], 1), Fx.List("shape", "split_sizes_2_4_dim1"));
        Assert.Throws<TorchException>(() => z.Split([1, 1], 0));
    }

    [Test]
    public void Chunk_matches_python_piece_counts_and_values()
    {
        using var scope = DisposeScope.Begin();
        var z = Z();
        Check.List(z.Chunk(3, 0), Fx.List("shape", "chunk_3_dim0"));
        Check.List(z.Chunk(4, 1), Fx.List("shape", "chunk_4_dim1")); // 6 columns in 4 chunks: 3 pieces of 2
        Check.List(Torch.Arange(10, device: Device.CPU).Chunk(3), Fx.List("shape", "chunk_3_of_10"));
    }

    [Test]
    public void Flatten_all_and_ranges_of_dims_match_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Check.Exact(x.Flatten(), E("flatten"));
        Check.Exact(x.Flatten(1), E("flatten_1"));
        Check.Exact(x.Flatten(0, 1), E("flatten_0_1"));
    }

    [Test]
    public void Narrow_and_Select_match_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Check.Exact(x.Narrow(2, 1, 2), E("narrow_2_1_2"));
        Check.Exact(x.Narrow(0, 1, 1), E("narrow_0_1_1"));
        Check.Exact(x.Select(1, -1), E("select_1_m1"));
        Check.Exact(x.Select(2, 0), E("select_2_0"));
    }

    [Test]
    public void RepeatInterleave_flattened_and_along_dims_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var m = Torch.FromArray(new long[,] { { 1, 2 }, { 3, 4 } }).To(Device.CPU);
        Check.Exact(m.RepeatInterleave(2), E("repeat_interleave_2"));
        Check.Exact(m.RepeatInterleave(3, dim: 0), E("repeat_interleave_3_dim0"));
        Check.Exact(m.RepeatInterleave(2, dim: 1), E("repeat_interleave_2_dim1"));
        Check.Exact(m.Repeat(2, 1, 3), E("repeat_2_1_3"));
    }

    [Test]
    public void Flip_one_and_several_dims_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Check.Exact(x.Flip(0), E("flip_0"));
        Check.Exact(x.Flip(0, 2), E("flip_0_2"));
        Check.Exact(x.Flip(-1), E("flip_m1"));
    }

    [Test]
    public void Gather_along_each_dim_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var z = Z();
        Check.Exact(z[..2].Gather(1, Fx.Load("shape", "gather_index_dim1")), E("gather_z_dim1"));
        Check.Exact(z.Gather(0, Fx.Load("shape", "gather_index_dim0")), E("gather_z_dim0"));
    }

    [Test]
    public void IndexSelect_Tril_Triu_Unbind_match_python()
    {
        using var scope = DisposeScope.Begin();
        var z = Z();
        var idx = Torch.FromArray(new long[] { 5, 0, 0, 2 }).To(Device.CPU);
        Check.Exact(z.IndexSelect(1, idx), E("index_select_dim1"));
        Check.Exact(z.Tril(1), E("tril_1"));
        Check.Exact(z.Triu(-1), E("triu_m1"));
        Check.List(X().Unbind(1), Fx.List("shape", "unbind_1"));
    }

    [Test]
    public void MaskedFill_MaskedSelect_Nonzero_OneHot_Scatter_match_python()
    {
        using var scope = DisposeScope.Begin();
        var z = Z();
        var mask = z > 14;
        Check.Exact(z.MaskedFill(mask, -1), E("masked_fill_gt14"));
        Check.Exact(z.MaskedSelect(mask), E("masked_select_gt14"));
        var c = z.Clone();
        Assert.That(c.MaskedFill_(mask, -1), Is.SameAs(c));
        Check.Exact(c, E("masked_fill_gt14"));
        var nz = Torch.FromArray(new float[,] { { 0, 1, 0 }, { 2, 0, 3 } }).To(Device.CPU);
        Check.Exact(nz.Nonzero(), E("nonzero"));
        Check.Exact(Torch.FromArray(new long[] { 0, 3, 1, 4 }).To(Device.CPU).OneHot(5), E("one_hot_5"));
        var index = Torch.FromArray(new long[,] { { 0, 4 }, { 2, 1 } }).To(Device.CPU);
        var src = Torch.FromArray(new float[,] { { 1, 2 }, { 3, 4 } }).To(Device.CPU);
        Check.Exact(Torch.Zeros([2, 5], device: Device.CPU).Scatter(1, index, src), E("scatter_dim1"));
    }

    [Test]
    public void Size_and_Dim_report_the_shape_with_negative_dims()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Assert.That(x.Dim, Is.EqualTo(3));
        Assert.That(x.Size(0), Is.EqualTo(2));
        Assert.That(x.Size(-1), Is.EqualTo(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Size(3));
        Assert.That(x.NumEl, Is.EqualTo(24));
    }
}
