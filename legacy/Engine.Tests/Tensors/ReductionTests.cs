namespace Engine.Tests.Tensors;

/// <summary>
/// Reductions with dims and keepdim, against Python PyTorch 1.13 on x = randn(3, 4, 5)
/// (fixture section "reduction"). Tolerances: float32 sums, means, variances and norms to 1e-6
/// relative plus 1e-6 absolute (the summation order of a vectorized reduction may differ between
/// CPU instruction sets); selections (max, min, sort, topk) and their indices exactly.
/// </summary>
public class ReductionTests
{
    const double Rtol = 1e-6, Atol = 1e-6;
    static Expected E(string name) => Fx.E("reduction", name);
    static Tensor X() => Fx.Load("reduction", "x");
    static void Near(Tensor actual, string name) => Check.Close(actual, E(name), Rtol, Atol);

    [Test]
    public void Sum_over_all_one_and_several_dims_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Near(x.Sum(), "sum");
        Near(x.Sum(1), "sum_1");
        Near(x.Sum([0, 2], keepdim: true), "sum_0_2_keep");
        Check.Close(x.Sum(ScalarType.Float64), E("sum_float64"), 1e-12, 1e-12);
    }

    [Test]
    public void Sum_of_int64_stays_int64_like_python()
    {
        using var scope = DisposeScope.Begin();
        var li = Fx.Load("reduction", "li");
        Check.Exact(li.Sum(), E("li_sum"));
        Check.Exact(li.Sum(1), E("li_sum_1"));
        Check.Exact(li.Float().Mean(), E("li_mean_float"));
    }

    [Test]
    public void Mean_of_an_integer_tensor_throws_like_python()
    {
        using var scope = DisposeScope.Begin();
        var li = Fx.Load("reduction", "li");
        var ex = Assert.Throws<TorchException>(() => li.Mean());
        Assert.That(ex!.Message, Does.Contain("aten::mean"));
    }

    [Test]
    public void Mean_with_dims_and_keepdim_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Near(x.Mean(), "mean");
        Near(x.Mean(-1, keepdim: true), "mean_m1_keep");
        Near(x.Mean([0, 1]), "mean_0_1");
    }

    [Test]
    public void Var_unbiased_and_biased_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Near(x.Var(), "var");
        Near(x.Var(unbiased: false), "var_biased");
        Near(x.Var(1, unbiased: false), "var_1_biased");
        Near(x.Var([0, 1]), "var_0_1");
    }

    [Test]
    public void Std_unbiased_and_biased_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Near(x.Std(), "std");
        Near(x.Std(unbiased: false), "std_biased");
        Near(x.Std(2, unbiased: false, keepdim: true), "std_2_biased_keep");
        Near(x.Std(1), "std_1");
    }

    [Test]
    public void Max_and_Min_of_all_elements_match_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Check.Exact(x.Max(), E("max"));
        Check.Exact(x.Min(), E("min"));
    }

    [Test]
    public void Max_and_Min_along_a_dim_give_pythons_values_and_indices()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        var (v, i) = x.Max(1);
        Check.Exact(v, E("max_1_values"));
        Check.Exact(i, E("max_1_indices"));
        (v, i) = x.Min(0, keepdim: true);
        Check.Exact(v, E("min_0_keep_values"));
        Check.Exact(i, E("min_0_keep_indices"));
        (v, i) = x.Max(-1);
        Check.Exact(v, E("max_m1_values"));
        Check.Exact(i, E("max_m1_indices"));
    }

    [Test]
    public void Argmax_and_Argmin_match_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Check.Exact(x.Argmax(), E("argmax"));
        Check.Exact(x.Argmax(2), E("argmax_2"));
        Check.Exact(x.Argmin(1, keepdim: true), E("argmin_1_keep"));
        Check.Exact(x.Argmin(), E("argmin"));
    }

    [Test]
    public void Norm_with_p_1_2_and_inf_matches_python_vector_norm()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Near(x.Norm(1), "norm_1");
        Near(x.Norm(2), "norm_2");
        Near(x.Norm(), "tensor_norm_2");
        Check.Exact(x.Norm(double.PositiveInfinity), E("norm_inf"));
        Near(x.Norm(2, [1]), "norm_2_dim1");
        Near(x.Norm(1, [0, 2], keepdim: true), "norm_1_dim_0_2_keep");
        Check.Exact(x.Norm(double.PositiveInfinity, [-1]), E("norm_inf_dim_m1"));
    }

    [Test]
    public void LogSumExp_matches_python_and_is_stable_for_large_values()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Near(x.LogSumExp(1), "logsumexp_1");
        Near(x.LogSumExp([0, 2], keepdim: true), "logsumexp_0_2_keep");
        var big = Fx.Load("reduction", "big"); // [[1000, 1000], [-1000, 5]]: naive exp overflows
        Near(big.LogSumExp(1), "logsumexp_big_1");
    }

    [Test]
    public void Prod_Cumsum_All_Any_match_python()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        Near(x[0, 0].Prod(), "prod_row");
        Near(x.Cumsum(2), "cumsum_2");
        Check.Exact((x > -3).All(), E("all_gt_m3"));
        Check.Exact((x > 2).Any(), E("any_gt_2"));
    }

    [Test]
    public void Sort_and_TopK_give_pythons_values_and_indices()
    {
        using var scope = DisposeScope.Begin();
        var x = X();
        var (v, i) = x.Sort();
        Check.Exact(v, E("sort_values"));
        Check.Exact(i, E("sort_indices"));
        (v, i) = x.Sort(1, descending: true);
        Check.Exact(v, E("sort_1_desc_values"));
        Check.Exact(i, E("sort_1_desc_indices"));
        (v, i) = x.TopK(2);
        Check.Exact(v, E("topk_2_values"));
        Check.Exact(i, E("topk_2_indices"));
        (v, i) = x.TopK(3, dim: 0, largest: false);
        Check.Exact(v, E("topk_3_dim0_smallest_values"));
        Check.Exact(i, E("topk_3_dim0_smallest_indices"));
    }
}
