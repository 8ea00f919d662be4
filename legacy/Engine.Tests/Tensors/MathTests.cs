namespace Engine.Tests.Tensors;

/// <summary>
/// Elementwise math, C# operators, type promotion, comparisons, masks, in-place variants and
/// activations, against Python PyTorch 1.13 (fixture section "math").
/// Tolerances: exact for correctly rounded IEEE operations (+ - * / sqrt, comparisons,
/// selection); 1e-6 relative (plus 1e-7 absolute, for results near zero) for transcendental
/// functions, whose vectorized kernels may differ in the last bit between CPU instruction sets.
/// </summary>
public class MathTests
{
    const double Rtol = 1e-6, Atol = 1e-7;
    static Expected E(string name) => Fx.E("math", name);
    static Tensor L(string name) => Fx.Load("math", name);
    static void Near(Tensor actual, string name) => Check.Close(actual, E(name), Rtol, Atol);

    // a, b: randn(3, 4); pos: uniform on [0.1, 3.1); row: randn(4); i: int64 [[5,-3,0],[7,12,-8]]

    [Test]
    public void Tensor_operators_match_python_elementwise()
    {
        using var scope = DisposeScope.Begin();
        var (a, b) = (L("a"), L("b"));
        Check.Exact(a + b, E("a_plus_b"));
        Check.Exact(a - b, E("a_minus_b"));
        Check.Exact(a * b, E("a_times_b"));
        Check.Exact(a / b, E("a_div_b"));
        Check.Exact(-a, E("neg_a"));
        Near(a % b, "a_mod_b"); // Python's % is torch.remainder: the sign follows the divisor
        Check.Exact(a.Add(b, alpha: 0.5), E("add_alpha_b_0p5"));
    }

    [Test]
    public void Operators_broadcast_a_row_like_python()
    {
        using var scope = DisposeScope.Begin();
        var (a, row) = (L("a"), L("row"));
        Check.Exact(a + row, E("a_plus_row"));
        Check.Exact(a * row, E("a_times_row"));
    }

    [Test]
    public void Scalar_operands_work_on_both_sides_like_python()
    {
        using var scope = DisposeScope.Begin();
        var a = L("a");
        Check.Exact(a + 2.5, E("a_plus_2p5"));
        Check.Exact(2.5 + a, E("2p5_plus_a"));
        Check.Exact(a - 2.5, E("a_minus_2p5"));
        Check.Exact(2.5 - a, E("2p5_minus_a"));
        Check.Exact(a * 3, E("a_times_3"));
        Check.Exact(3 * a, E("3_times_a"));
        Check.Exact(a / 4, E("a_div_4"));
        Check.Exact(4 / a, E("4_div_a")); // Python's __rtruediv__ is reciprocal() * 4: same rounding
        Near(a % 1.5, "a_mod_1p5");
    }

    [Test]
    public void Int64_tensor_with_long_scalar_stays_int64_like_python()
    {
        using var scope = DisposeScope.Begin();
        var i = L("i");
        Check.Exact(i + 3, E("i_plus_3"));
        Check.Exact(i * 2, E("i_times_2"));
        Check.Exact(i - 1, E("i_minus_1"));
        Check.Exact(10 - i, E("10_minus_i"));
        Check.Exact(-i, E("neg_i"));
        Check.Exact(i % 3, E("i_mod_3"));
    }

    [Test]
    public void Int64_tensor_with_double_scalar_promotes_to_float32_like_python()
    {
        using var scope = DisposeScope.Begin();
        var i = L("i");
        Check.Exact(i + 2.5, E("i_plus_2p5"));
        Check.Exact(i / 2, E("i_div_2")); // true division, as Python's /
        Check.Exact(i % 2.5, E("i_mod_2p5"));
    }

    [Test]
    public void Int64_tensors_add_and_subtract_with_integer_alpha_like_python()
    {
        using var scope = DisposeScope.Begin();
        var i = L("i");
        Check.Exact(i + i, E("i_plus_i"));
        Check.Exact(i.Sub(i * 3, alpha: 2), E("i_sub_3i_alpha2"));
        Check.Exact(i.Clone().Add_(i, alpha: -1), E("i_inplace_add_i_alpha_m1"));
    }

    [Test]
    public void Mixed_dtype_tensors_promote_like_python()
    {
        using var scope = DisposeScope.Begin();
        var (a, i) = (L("a"), L("i"));
        Check.Exact(i + a[..2, ..3], E("i_plus_a01"));          // int64 + float32 -> float32
        Check.Exact(i.To(ScalarType.Int32) + i, E("i_int32_plus_i")); // int32 + int64 -> int64
        Check.Exact(a.Double() + a, E("a_float64_plus_a"));      // float64 + float32 -> float64
    }

    [Test]
    public void Comparison_operators_give_bool_tensors_like_python()
    {
        using var scope = DisposeScope.Begin();
        var (a, b, i) = (L("a"), L("b"), L("i"));
        Check.Exact(a < b, E("a_lt_b"));
        Check.Exact(a > 0, E("a_gt_0"));
        Check.Exact(a <= b, E("a_le_b"));
        Check.Exact(a >= 0.5, E("a_ge_0p5"));
        Check.Exact(0 < a, E("0_lt_a"));
        Check.Exact(a.Eq(a.Round()), E("a_eq_a_rounded"));
        Check.Exact(i.Eq(7), E("i_eq_7"));
        Check.Exact(i.Ne(0), E("i_ne_0"));
        Check.Exact(a.Ge(b).LogicalNot(), E("a_lt_b"));
    }

    [Test]
    public void Equality_operators_keep_reference_meaning()
    {
        using var scope = DisposeScope.Begin();
        var a = L("a");
        var alias = a;
#pragma warning disable CS1718 // comparison to the same variable: the point of the test
        Assert.That(a == alias, Is.True);
#pragma warning restore CS1718
        Tensor? none = null;
        Assert.That(a == none, Is.False);
        Assert.That(a.Equal(a.Clone()), Is.True);
        Assert.That(a.AllClose(a + 1e-9), Is.True);
    }

    [Test]
    public void Bool_mask_operators_match_python()
    {
        using var scope = DisposeScope.Begin();
        var (a, b, i) = (L("a"), L("b"), L("i"));
        var (ma, mb) = (a > 0, b > 0);
        Check.Exact(ma & mb, E("mask_and"));
        Check.Exact(ma | mb, E("mask_or"));
        Check.Exact(ma ^ mb, E("mask_xor"));
        Check.Exact(~ma, E("mask_not"));
        Check.Exact(!ma, E("mask_not"));
        Check.Exact(~i, E("i_not"));
        Check.Exact(i & Torch.Scalar(6L, device: Device.CPU), E("i_and_6"));
    }

    [Test]
    public void In_place_arithmetic_matches_python_and_returns_the_same_tensor()
    {
        using var scope = DisposeScope.Begin();
        var (a, b) = (L("a"), L("b"));
        var t = a.Clone();
        var p = t.DataPointer;
        Assert.That(t.Add_(b), Is.SameAs(t));
        Assert.That(t.DataPointer, Is.EqualTo(p));
        Check.Exact(t, E("inplace_add_b"));
        Check.Exact(a.Clone().Add_(b, alpha: -2.0), E("inplace_add_b_alpha_m2"));
        Check.Exact(a.Clone().Add_(2.0), E("inplace_add_2"));
        Check.Exact(a.Clone().Sub_(b), E("inplace_sub_b"));
        Check.Exact(a.Clone().Mul_(b), E("inplace_mul_b"));
        Check.Exact(a.Clone().Mul_(3.0), E("inplace_mul_3"));
        Check.Exact(a.Clone().Div_(b), E("inplace_div_b"));
        Check.Exact(a.Clone().Div_(4.0), E("inplace_div_4"));
    }

    [Test]
    public void In_place_functions_match_python()
    {
        using var scope = DisposeScope.Begin();
        var (a, b, pos, row) = (L("a"), L("b"), L("pos"), L("row"));
        Check.Exact(a.Clone().Clamp_(-0.5, 0.5), E("inplace_clamp"));
        Check.Exact(a.Clone().Pow_(2), E("inplace_pow_2"));
        Check.Exact(a.Clone().Relu_(), E("inplace_relu"));
        Near(a.Clone().Exp_(), "inplace_exp");
        Check.Exact(a.Clone().Neg_(), E("inplace_neg"));
        Near(a.Clone().Addcmul_(b, row, 0.5), "inplace_addcmul");
        Near(a.Clone().Addcdiv_(b, pos, -2.0), "inplace_addcdiv");
        Near(a.Clone().Lerp_(b, 0.25), "inplace_lerp");
    }

    [Test]
    public void In_place_op_on_a_leaf_that_requires_grad_throws()
    {
        using var scope = DisposeScope.Begin();
        var w = L("a").RequiresGrad_();
        var ex = Assert.Throws<TorchException>(() => w.Add_(1.0));
        Assert.That(ex!.Message, Does.Contain("aten::add_"));
    }

    [Test]
    public void Where_and_Clamp_match_python()
    {
        using var scope = DisposeScope.Begin();
        var (a, b, row) = (L("a"), L("b"), L("row"));
        Check.Exact(Torch.Where(a > 0, a, b), E("where_a_gt0_a_b"));
        Check.Exact(a.Where(a > 0, b), E("where_a_gt0_a_b"));
        Check.Exact(a.Clamp(-0.5, 0.5), E("clamp_m0p5_0p5"));
        Check.Exact(a.Clamp(min: 0), E("clamp_min_0"));
        Check.Exact(a.Clamp(max: 0.2), E("clamp_max_0p2"));
        var bound = row.Abs();
        Check.Exact(a.Clamp(-bound, bound), E("clamp_tensor"));
        Check.Exact(a.Maximum(b), E("maximum"));
        Check.Exact(a.Minimum(b), E("minimum"));
    }

    [Test]
    public void Abs_Sign_Sqrt_Exp_Log_match_python()
    {
        using var scope = DisposeScope.Begin();
        var (a, pos) = (L("a"), L("pos"));
        Check.Exact(a.Abs(), E("abs"));
        Check.Exact(Torch.FromSpan<float>([-2f, 0f, 3.5f, -0f], [4], Device.CPU).Sign(), E("sign"));
        Check.Exact(pos.Sqrt(), E("sqrt_pos"));
        Near(pos.Rsqrt(), "rsqrt_pos");
        Near(a.Exp(), "exp");
        Near(pos.Log(), "log_pos");
        Near(pos.Log1p(), "log1p_pos");
    }

    [Test]
    public void Pow_with_scalar_and_tensor_exponents_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var (a, b, pos) = (L("a"), L("b"), L("pos"));
        Check.Exact(a.Pow(2), E("pow_a_2"));
        Near(a.Pow(3), "pow_a_3");
        Near(pos.Pow(0.5), "pow_pos_0p5");
        Near(pos.Pow(b), "pow_pos_b");
        Near(Tensor.Pow(2.0, a), "pow_2_a");
        Check.Exact(a.Square(), E("square"));
    }

    [Test]
    public void Tanh_Sigmoid_Relu_and_trigonometry_match_python()
    {
        using var scope = DisposeScope.Begin();
        var a = L("a");
        Near(a.Tanh(), "tanh");
        Near(a.Sigmoid(), "sigmoid");
        Check.Exact(a.Relu(), E("relu"));
        Near(a.Sin(), "sin");
        Near(a.Cos(), "cos");
        Near(a.Erf(), "erf");
        Near(L("pos").Reciprocal(), "reciprocal_pos");
    }

    [Test]
    public void Rounding_functions_match_python_including_half_to_even()
    {
        using var scope = DisposeScope.Begin();
        var a3 = L("a") * 3;
        Check.Exact(a3.Floor(), E("floor"));
        Check.Exact(a3.Ceil(), E("ceil"));
        Check.Exact(a3.Trunc(), E("trunc"));
        Check.Exact(Torch.FromSpan<float>([0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 1.2f], [6], Device.CPU).Round(), E("round"));
    }

    [Test]
    public void Softmax_and_LogSoftmax_match_python_along_each_dim()
    {
        using var scope = DisposeScope.Begin();
        var a = L("a");
        Near(a.Softmax(1), "softmax_dim1");
        Near(a.Softmax(0), "softmax_dim0");
        Near(a.LogSoftmax(-1), "log_softmax_dim_m1");
        Near(a.LogSoftmax(0), "log_softmax_dim0");
        var d = a.Softmax(1, ScalarType.Float64);
        Check.Close(d, E("softmax_dim1_float64"), 1e-12, 1e-15);
    }

    [Test]
    public void Functional_activations_match_torch_nn_functional()
    {
        using var scope = DisposeScope.Begin();
        var a = L("a");
        Near(Functional.Gelu(a), "gelu");
        Near(Functional.Gelu(a, "tanh"), "gelu_tanh");
        Near(a.Gelu(), "gelu");
        Near(a.Silu(), "silu");
        Check.Exact(a.LeakyRelu(0.1), E("leaky_relu_0p1"));
        Near(a.Elu(), "elu");
        Near(a.Selu(), "selu");
        Near(a.Softplus(beta: 2.0), "softplus");
        Check.Exact(a.Hardtanh(-0.5, 0.5), E("hardtanh"));
    }

    [Test]
    public void Isnan_and_Isinf_match_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Torch.FromSpan<float>([1f, float.NaN, float.PositiveInfinity], [3], Device.CPU).Isnan(), E("isnan"));
        Check.Exact(Torch.FromSpan<float>([1f, float.NaN, float.NegativeInfinity], [3], Device.CPU).Isinf(), E("isinf"));
    }
}
