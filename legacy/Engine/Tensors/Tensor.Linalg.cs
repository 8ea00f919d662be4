namespace Engine;

// Matrix products.
public partial class Tensor
{
    static readonly Op s_matmul = new("aten::matmul"), s_mm = new("aten::mm"), s_bmm = new("aten::bmm");
    static readonly Op s_addmm = new("aten::addmm"), s_outer = new("aten::outer"), s_dot = new("aten::dot");

    /// <summary>Matrix product with broadcasting (the @ operator).</summary>
    public Tensor Matmul(Tensor other) => s_matmul.Call(this, other);
    public Tensor Mm(Tensor other) => s_mm.Call(this, other);
    /// <summary>Batched matrix product of [b, n, m] and [b, m, p].</summary>
    public Tensor Bmm(Tensor other) => s_bmm.Call(this, other);
    /// <summary>beta * this + alpha * (m1 @ m2).</summary>
    public Tensor Addmm(Tensor m1, Tensor m2, double beta = 1, double alpha = 1) => s_addmm.Call(this, m1, m2, beta, alpha);
    public Tensor Outer(Tensor other) => s_outer.Call(this, other);
    public Tensor Dot(Tensor other) => s_dot.Call(this, other);
}

public static partial class Torch
{
    static readonly Op s_einsum = new("aten::einsum");

    /// <summary>Einstein summation, e.g. Einsum("bij,bjk->bik", a, b).</summary>
    public static Tensor Einsum(string equation, params Tensor[] operands) => s_einsum.Call(equation, operands);

    public static Tensor Matmul(Tensor a, Tensor b) => a.Matmul(b);
    public static Tensor Bmm(Tensor a, Tensor b) => a.Bmm(b);
}
