using static Engine.TensorIndex;

namespace Engine.Tests.Tensors;

/// <summary>
/// C# indexers against the same Python expressions (fixture section "indexing"), on
/// x = torch.arange(60.).reshape(3, 4, 5). Each test names the Python expression it mirrors.
/// Indexing moves values without arithmetic: every comparison is exact.
/// </summary>
public class IndexingTests
{
    static Expected E(string name) => Fx.E("indexing", name);
    static Tensor X() => Fx.Load("indexing", "x");
    static Tensor L(string name) => Fx.Load("indexing", name);

    [Test]
    public void Integer_index_selects_like_python_x_0()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(X()[0], E("x_0"));
        Check.Exact(X()[0L], E("x_0"));
    }

    [Test]
    public void Hat_index_counts_from_the_end_like_python_x_minus_1()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(X()[^1], E("x_m1"));
        Check.Exact(X()[-1], E("x_m1"));
    }

    [Test]
    public void Range_slices_like_python_x_1_3()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(X()[1..3], E("x_1_3"));
    }

    [Test]
    public void Hat_ranges_slice_like_python_negative_bounds()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(X()[^2..], E("x_m2_"));  // x[-2:]
        Check.Exact(X()[..^1], E("x__m1"));  // x[:-1]
    }

    [Test]
    public void Ranges_past_the_end_are_empty_like_python_x_3_colon()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(X()[3..], E("x_3_"));   // x[3:] on a dim of 3: shape (0, 4, 5)
        Check.Exact(X()[^0..], E("x_3_"));  // ^0 is the end, so ^0.. is empty too
    }

    [Test]
    public void Full_range_then_integer_like_python_x_colon_0()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(X()[.., 0], E("x_all_0"));
        Check.Exact(X()[Colon, 0], E("x_all_0"));
    }

    [Test]
    public void Ellipsis_fills_the_middle_dims_like_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(X()[Ellipsis, 1], E("x_ell_1"));      // x[..., 1]
        Check.Exact(X()[1, Ellipsis], E("x_1_ell"));      // x[1, ...]
        Check.Exact(X()[0, Ellipsis, -1], E("x_0_ell_m1")); // x[0, ..., -1]
    }

    [Test]
    public void NewAxis_inserts_a_dim_like_python_None()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(X()[NewAxis], E("x_none"));           // x[None]
        Check.Exact(X()[.., NewAxis], E("x_all_none"));   // x[:, None]
        Check.Exact(X()[Ellipsis, NewAxis], E("x_ell_none")); // x[..., None]
    }

    [Test]
    public void Stepped_slices_match_python_double_colon()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(X()[Slice(0, null, 2)], E("x_step2"));                                  // x[0::2]
        Check.Exact(X()[.., Slice(1, null, 2), Slice(1, null, 3)], E("x_all_1_step2_1_step3")); // x[:, 1::2, 1::3]
    }

    [Test]
    public void Integers_on_every_dim_give_a_0d_tensor_like_python()
    {
        using var scope = DisposeScope.Begin();
        var t = X()[1, 2, 3];
        Check.Exact(t, E("x_1_2_3"));
        Assert.That(t.Item<float>(), Is.EqualTo(33f));
        Check.Exact(X()[1, 1..^1, 2], E("x_1_m1_2")); // x[1, 1:-1, 2]
    }

    [Test]
    public void Bool_mask_selects_like_python_x_of_x_gt_30()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Check.Exact(x[x > 30], E("x_gt30"));
    }

    [Test]
    public void Index_tensor_gathers_rows_like_python_x_of_idx()
    {
        using var scope = DisposeScope.Begin();
        var idx = L("idx"); // [2, 0, 2]
        Check.Exact(X()[idx], E("x_idx"));
        Check.Exact(X()[.., idx], E("x_all_idx"));
        Check.Exact(X()[Ellipsis, idx], E("x_ell_idx"));
    }

    [Test]
    public void Two_d_bool_mask_on_a_3d_tensor_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var m2 = L("mask2d"); // (3, 4): covers the first two dims
        Check.Exact(X()[m2], E("x_mask2d"));
        Check.Exact(X()[Ellipsis, L("mask_last")], E("x_ell_masklast"));
    }

    [Test]
    public void Mixed_basic_and_advanced_indices_match_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        var idx = L("idx");
        var idx2 = L("idx2"); // [3, 1]
        Check.Exact(x[1.., idx2], E("x_1__idx2"));                  // x[1:, idx2]
        Check.Exact(x[0, .., idx2], E("x_0_all_idx2"));             // x[0, :, idx2]
        var third = Torch.FromSpan<long>([4, 0, 1], [3], Device.CPU);
        Check.Exact(x[idx, .., third], E("x_idx_all_idx"));         // separated: the indexed dims go first
        var first = Torch.FromSpan<long>([0, 2], [2], Device.CPU);
        Check.Exact(x[first, idx2], E("x_idx_idx2b"));              // adjacent advanced indices
        Check.Exact(x[NewAxis, idx], E("x_none_idx"));              // x[None, idx]
        var twoD = Torch.FromSpan<long>([0, 1, 2, 2], [2, 2], Device.CPU);
        Check.Exact(x[twoD], E("x_idx2d"));                          // a 2-d index tensor
    }

    // PyTorch 1.13 raises for these (a k-d mask counted as one dim, pytorch/pytorch#71673); the
    // engine lets the mask span its k dims as NumPy does, and the fixture holds NumPy's results.
    [Test]
    public void Two_d_bool_mask_followed_by_more_indices_spans_two_dims_like_numpy()
    {
        using var scope = DisposeScope.Begin();
        var m2 = L("mask2d");
        Check.Exact(X()[m2, 1..3], E("x_mask2d_then_slice_numpy"));
        Check.Exact(X()[m2, 0], E("x_mask2d_then_int_numpy"));
        var y = X();
        y.IndexFill_(-1, m2, 1..3);
        Check.Exact(y, E("fill_mask2d_then_slice_numpy"));
    }

    [Test]
    public void Basic_indexing_gives_a_view_and_advanced_indexing_a_copy()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        var view = x[1, .., 2..];
        view.Fill_(-1.0);
        Assert.That(x[1, 0, 2].Item<float>(), Is.EqualTo(-1f));
        var copy = x[L("idx")];
        copy.Fill_(5.0);
        Assert.That(x[2, 0, 0].Item<float>(), Is.EqualTo(40f));
    }

    // ---- assignment, against Python's y = x.clone(); y[...] = value ----

    [Test]
    public void Setting_an_integer_index_copies_a_tensor_in()
    {
        using var scope = DisposeScope.Begin();
        var y = X();
        y[0] = Torch.Full([4, 5], -1.0, device: Device.CPU);
        Check.Exact(y, E("set_0_tensor"));
    }

    [Test]
    public void Setting_a_slice_broadcasts_the_value_like_python()
    {
        using var scope = DisposeScope.Begin();
        var y = X();
        y[.., 1] = Torch.FromSpan<float>([10, 20, 30, 40, 50], [5], Device.CPU);
        Check.Exact(y, E("set_all_1_broadcast_row"));
        var z = X();
        z[Ellipsis, -1] = Torch.Scalar(7.0, device: Device.CPU);
        Check.Exact(z, E("set_ell_m1_scalar_tensor"));
    }

    [Test]
    public void IndexFill_with_a_bool_mask_matches_python_masked_assignment()
    {
        using var scope = DisposeScope.Begin();
        var y = X();
        Assert.That(y.IndexFill_(0, y > 50), Is.SameAs(y));
        Check.Exact(y, E("fill_gt50_0"));
    }

    [Test]
    public void Setting_through_index_tensors_and_masks_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var y = X();
        y[L("idx")] = Torch.Arange(0.0, 20.0, device: Device.CPU).Reshape(4, 5);
        Check.Exact(y, E("set_idx_rows")); // repeated index 2: the last write wins, as in Python on CPU
        var w = X();
        w[1.., L("idx2")] = Torch.Scalar(-5.0, device: Device.CPU);
        Check.Exact(w, E("set_1__idx2_scalar"));
        var m = X();
        m[L("mask2d")] = Torch.Arange(0.0, 5.0, device: Device.CPU);
        Check.Exact(m, E("set_mask2d_row"));
    }

    [Test]
    public void IndexFill_with_integers_slices_and_masks_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var a = X();
        a.IndexFill_(99, 1, 2, 3);
        Check.Exact(a, E("fill_1_2_3_99"));
        var b = X();
        b.IndexFill_(0.5, .., Slice(null, null, 2), 1..3);
        Check.Exact(b, E("fill_step_slices"));
        var c = X();
        c.IndexFill_(-2, Ellipsis, L("mask_last"));
        Check.Exact(c, E("fill_ell_masklast"));
    }

    [Test]
    public void Invalid_indices_throw()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Assert.Throws<IndexOutOfRangeException>(() => _ = x[0, 0, 0, 0]);
        Assert.Throws<IndexOutOfRangeException>(() => _ = x[Ellipsis, 0, Ellipsis]);
        Assert.Throws<ArgumentOutOfRangeException>(() => Slice(0, null, 0));
        Assert.Throws<TorchException>(() => _ = x[5]); // index 5 is out of bounds for dim 0 of size 3
    }
}
