namespace Engine.Tests.Tensors;

/// <summary>
/// Matrix products and einsum against Python PyTorch 1.13 (fixture section "linalg").
/// Tolerance: 1e-6 relative plus 1e-6 absolute: a float32 dot product's rounding depends on the
/// BLAS kernel's accumulation order (FMA or not), which may differ between CPUs.
/// </summary>
public class LinalgTests
{
    const double Rtol = 1e-6, Atol = 1e-6;
    static Expected E(string name) => Fx.E("linalg", name);
    static Tensor L(string name) => Fx.Load("linalg", name);
    static void Near(Tensor actual, string name) => Check.Close(actual, E(name), Rtol, Atol);

    [Test]
    public void Matmul_of_matrices_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var (a, b) = (L("A"), L("B"));
        Near(a.Matmul(b), "matmul_A_B");
        Near(Torch.Matmul(a, b), "matmul_A_B");
        Near(a.Mm(b), "mm_A_B");
    }

    [Test]
    public void Matmul_with_vectors_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var (a, b, v) = (L("A"), L("B"), L("v3"));
        Near(v.Matmul(b), "matmul_v3_B"); // (3) @ (3, 4) -> (4)
        Near(a.Matmul(v), "matmul_A_v3"); // (2, 3) @ (3) -> (2)
        Near(v.Dot(v), "dot_v3_v3");
        Near(v.Outer(v), "outer_v3_v3");
    }

    [Test]
    public void Matmul_broadcasts_batch_dims_like_python()
    {
        using var scope = DisposeScope.Begin();
        // (2, 1, 3, 4) @ (5, 4, 2) -> (2, 5, 3, 2)
        Near(L("P").Matmul(L("Q")), "matmul_broadcast_P_Q");
        Near(L("X").Matmul(L("Y")), "matmul_X_Y");
    }

    [Test]
    public void Bmm_matches_python()
    {
        using var scope = DisposeScope.Begin();
        var (x, y) = (L("X"), L("Y"));
        Near(x.Bmm(y), "bmm_X_Y");
        Near(Torch.Bmm(x, y), "bmm_X_Y");
    }

    [Test]
    public void Bmm_with_mismatched_shapes_throws_naming_the_op_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        var x = L("X");
        var ex = Assert.Throws<TorchException>(() => x.Bmm(x));
        Assert.That(ex!.Message, Does.Contain("aten::bmm"));
        Assert.That(ex.Message, Does.Contain("[2, 3, 4]"));
    }

    [Test]
    public void Einsum_matrix_product_batched_product_and_trace_match_python()
    {
        using var scope = DisposeScope.Begin();
        Near(Torch.Einsum("ij,jk->ik", L("A"), L("B")), "einsum_ij_jk");
        Near(Torch.Einsum("bij,bjk->bik", L("X"), L("Y")), "einsum_bij_bjk");
        Near(Torch.Einsum("ii->", L("S")), "einsum_trace");
    }

    [Test]
    public void Einsum_diagonal_outer_and_transpose_match_python()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Torch.Einsum("ii->i", L("S")), E("einsum_diag"));
        Near(Torch.Einsum("i,j->ij", L("v3"), L("v3")), "einsum_outer");
        Check.Exact(Torch.Einsum("ij->ji", L("A")), E("einsum_transpose"));
    }

    [Test]
    public void Addmm_with_beta_and_alpha_matches_python()
    {
        using var scope = DisposeScope.Begin();
        Near(L("C0").Addmm(L("A"), L("B"), beta: 0.5, alpha: 2.0), "addmm_C0_A_B");
    }
}
