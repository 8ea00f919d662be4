namespace Engine.Tests.Tensors;

/// <summary>
/// Functional convolution, pooling and linear layers against torch.nn.functional in Python
/// PyTorch 1.13 (fixture section "functional"): inputs and weights are the fixture's fixed
/// values, outputs agree within 1e-5 (absolute plus relative): convolutions accumulate up to
/// 36 float32 products in an order chosen by the backend (oneDNN or im2col + BLAS). Max pooling
/// selects values, so it is exact, with its indices.
/// </summary>
public class FunctionalTests
{
    const double Tol = 1e-5;
    static Expected E(string name) => Fx.E("functional", name);
    static Tensor L(string name) => Fx.Load("functional", name);
    static void Near(Tensor actual, string name) => Check.Close(actual, E(name), Tol, Tol);

    // x2 (2, 4, 7, 7); w2 (6, 4, 3, 3); b2 (6); w2g (6, 2, 3, 3); w2e (6, 4, 4, 2)

    [Test]
    public void Conv2d_default_and_without_bias_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var (x, w, b) = (L("x2"), L("w2"), L("b2"));
        Near(Functional.Conv2d(x, w, b), "conv2d");
        Near(Functional.Conv2d(x, w), "conv2d_nobias");
    }

    [Test]
    public void Conv2d_stride_and_padding_match_python()
    {
        using var scope = DisposeScope.Begin();
        var (x, w, b) = (L("x2"), L("w2"), L("b2"));
        Near(Functional.Conv2d(x, w, b, stride: [2, 2], padding: [1, 1]), "conv2d_s2_p1");
        Near(Functional.Conv2d(x, w, b, stride: [2, 1], padding: [1, 2]), "conv2d_s21_p12");
    }

    [Test]
    public void Conv2d_dilation_and_groups_match_python()
    {
        using var scope = DisposeScope.Begin();
        var (x, b) = (L("x2"), L("b2"));
        Near(Functional.Conv2d(x, L("w2"), b, dilation: [2, 2]), "conv2d_d2");
        Near(Functional.Conv2d(x, L("w2g"), b, padding: [1, 1], groups: 2), "conv2d_g2");
    }

    [Test]
    public void Conv2d_padding_same_and_valid_match_python()
    {
        using var scope = DisposeScope.Begin();
        var (x, b) = (L("x2"), L("b2"));
        var same = Functional.Conv2d(x, L("w2"), b, "same");
        Near(same, "conv2d_same");
        Assert.That(same.Shape[2..], Is.EqualTo(x.Shape[2..]));
        // An even kernel with dilation: PyTorch pads asymmetrically (more on the right).
        Near(Functional.Conv2d(x, L("w2e"), b, "same", dilation: [2, 2]), "conv2d_same_even_d2");
        Near(Functional.Conv2d(x, L("w2"), b, "valid"), "conv2d_valid");
    }

    [Test]
    public void Conv1d_stride_padding_dilation_groups_match_python()
    {
        using var scope = DisposeScope.Begin();
        var (x, w, b) = (L("x1"), L("w1"), L("b1"));
        Near(Functional.Conv1d(x, w, b), "conv1d");
        Near(Functional.Conv1d(x, w, b, stride: 2, padding: 1), "conv1d_s2_p1");
        Near(Functional.Conv1d(x, w, b, dilation: 2), "conv1d_d2");
        Near(Functional.Conv1d(x, L("w1g"), b, groups: 2), "conv1d_g2");
    }

    [Test]
    public void Conv1d_padding_same_matches_python_for_odd_and_even_kernels()
    {
        using var scope = DisposeScope.Begin();
        var x = L("x1");
        Near(Functional.Conv1d(x, L("w1"), L("b1"), "same"), "conv1d_same");
        Near(Functional.Conv1d(x, L("w1e"), null, "same"), "conv1d_same_even");
    }

    [Test]
    public void ConvTranspose2d_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var (x, w, b) = (L("xt"), L("wt"), L("bt"));
        Near(Functional.ConvTranspose2d(x, w, b), "conv_transpose2d");
        Near(Functional.ConvTranspose2d(x, w, b, stride: [2, 2], padding: [1, 1], outputPadding: [1, 1]), "conv_transpose2d_s2_p1_op1");
        Near(Functional.ConvTranspose2d(x, L("wtg"), null, groups: 2, dilation: [2, 2]), "conv_transpose2d_g2_d2");
    }

    [Test]
    public void MaxPool2d_matches_python_exactly()
    {
        using var scope = DisposeScope.Begin();
        var x = L("xp"); // (2, 3, 8, 8)
        Check.Exact(Functional.MaxPool2d(x, [2, 2]), E("max_pool2d_2"));
        Check.Exact(Functional.MaxPool2d(x, [3, 3], stride: [2, 2], padding: [1, 1]), E("max_pool2d_3_s2_p1"));
        Check.Exact(Functional.MaxPool2d(x, [2, 2], stride: [1, 1], dilation: [2, 2]), E("max_pool2d_2_d2"));
        Check.Exact(Functional.MaxPool2d(x, [3, 3], stride: [2, 2], ceilMode: true), E("max_pool2d_3_ceil"));
    }

    [Test]
    public void AvgPool2d_padding_ceil_mode_and_divisor_match_python()
    {
        using var scope = DisposeScope.Begin();
        var x = L("xp");
        Near(Functional.AvgPool2d(x, [2, 2]), "avg_pool2d_2");
        Near(Functional.AvgPool2d(x, [3, 3], stride: [2, 2], padding: [1, 1]), "avg_pool2d_3_s2_p1");
        Near(Functional.AvgPool2d(x, [3, 3], stride: [2, 2], padding: [1, 1], countIncludePad: false), "avg_pool2d_3_s2_p1_nopad");
        Near(Functional.AvgPool2d(x, [3, 3], stride: [2, 2], ceilMode: true), "avg_pool2d_3_ceil");
        Near(Functional.AvgPool2d(x, [2, 2], divisorOverride: 3), "avg_pool2d_2_div3");
    }

    [Test]
    public void AdaptiveAvgPool2d_matches_python_for_dividing_and_uneven_sizes()
    {
        using var scope = DisposeScope.Begin();
        var x = L("xp");
        Near(Functional.AdaptiveAvgPool2d(x, [3, 3]), "adaptive_avg_pool2d_3x3"); // 8 -> 3: overlapping windows
        Near(Functional.AdaptiveAvgPool2d(x, [1, 1]), "adaptive_avg_pool2d_1x1");
        Near(Functional.AdaptiveAvgPool2d(x, [5, 2]), "adaptive_avg_pool2d_5x2");
        var (v, i) = Functional.AdaptiveMaxPool2d(x, [3, 3]);
        Check.Exact(v, E("adaptive_max_pool2d_3x3_values"));
        Check.Exact(i, E("adaptive_max_pool2d_3x3_indices"));
    }

    [Test]
    public void Pool1d_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var x = L("xq");
        Check.Exact(Functional.MaxPool1d(x, 3, stride: 2), E("max_pool1d_3_s2"));
        Near(Functional.AvgPool1d(x, 2), "avg_pool1d_2");
    }

    [Test]
    public void Linear_with_and_without_bias_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var (x, w) = (L("xl"), L("wl"));
        Near(Functional.Linear(x, w, L("bl")), "linear");
        Near(Functional.Linear(x, w), "linear_nobias");
    }

    [Test]
    public void Conv2d_with_mismatched_channels_throws_with_the_op_name()
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<TorchException>(() => Functional.Conv2d(L("x2"), L("w2g")));
        Assert.That(ex!.Message, Does.Contain("aten::conv2d"));
    }
}
