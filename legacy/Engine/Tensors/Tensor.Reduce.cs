namespace Engine;

// Reductions, with optional dims and keepdim. A null dims reduces over every dimension.
public partial class Tensor
{
    static readonly Op s_sum = new("aten::sum", "dim_IntList"), s_mean = new("aten::mean", "dim");
    static readonly Op s_sumAll = new("aten::sum"), s_meanAll = new("aten::mean");
    static readonly Op s_var = new("aten::var", "dim"), s_std = new("aten::std", "dim");
    static readonly Op s_max = new("aten::max"), s_min = new("aten::min");
    static readonly Op s_maxDim = new("aten::max", "dim"), s_minDim = new("aten::min", "dim");
    static readonly Op s_argmax = new("aten::argmax"), s_argmin = new("aten::argmin");
    static readonly Op s_norm = new("aten::linalg_vector_norm"), s_logsumexp = new("aten::logsumexp");
    static readonly Op s_prod = new("aten::prod"), s_all = new("aten::all"), s_any = new("aten::any");
    static readonly Op s_cumsum = new("aten::cumsum"), s_sort = new("aten::sort"), s_topk = new("aten::topk");

    public Tensor Sum(ScalarType? dtype = null) => s_sumAll.Call(this, Arg.Of(dtype));
    public Tensor Sum(long dim, bool keepdim = false, ScalarType? dtype = null) => s_sum.Call(this, new[] { dim }, keepdim, Arg.Of(dtype));
    public Tensor Sum(long[] dims, bool keepdim = false, ScalarType? dtype = null) => s_sum.Call(this, dims, keepdim, Arg.Of(dtype));
    public Tensor Mean(ScalarType? dtype = null) => s_meanAll.Call(this, Arg.Of(dtype));
    public Tensor Mean(long dim, bool keepdim = false, ScalarType? dtype = null) => s_mean.Call(this, new[] { dim }, keepdim, Arg.Of(dtype));
    public Tensor Mean(long[] dims, bool keepdim = false, ScalarType? dtype = null) => s_mean.Call(this, dims, keepdim, Arg.Of(dtype));
    /// <summary>Variance; unbiased (divides by n-1) by default, as torch.var.</summary>
    public Tensor Var(bool unbiased = true) => s_var.Call(this, Arg.None, unbiased, false);
    public Tensor Var(long dim, bool unbiased = true, bool keepdim = false) => s_var.Call(this, new[] { dim }, unbiased, keepdim);
    public Tensor Var(long[] dims, bool unbiased = true, bool keepdim = false) => s_var.Call(this, dims, unbiased, keepdim);
    public Tensor Std(bool unbiased = true) => s_std.Call(this, Arg.None, unbiased, false);
    public Tensor Std(long dim, bool unbiased = true, bool keepdim = false) => s_std.Call(this, new[] { dim }, unbiased, keepdim);
    public Tensor Std(long[] dims, bool unbiased = true, bool keepdim = false) => s_std.Call(this, dims, unbiased, keepdim);
    public Tensor Max() => s_max.Call(this);
    public Tensor Min() => s_min.Call(this);
    /// <summary>(values, indices) of the maximum along dim.</summary>
    public (Tensor Values, Tensor Indices) Max(long dim, bool keepdim = false)
    {
        var r = s_maxDim.CallTensors(this, dim, keepdim);
        return (r[0], r[1]);
    }
    public (Tensor Values, Tensor Indices) Min(long dim, bool keepdim = false)
    {
        var r = s_minDim.CallTensors(this, dim, keepdim);
        return (r[0], r[1]);
    }
    /// <summary>Index of the maximum of the flattened tensor, or along dim.</summary>
    public Tensor Argmax(long? dim = null, bool keepdim = false) => s_argmax.Call(this, Arg.Of(dim), keepdim);
    public Tensor Argmin(long? dim = null, bool keepdim = false) => s_argmin.Call(this, Arg.Of(dim), keepdim);
    /// <summary>Vector p-norm over all elements or dims (torch.linalg.vector_norm; p=2 by default).</summary>
    public Tensor Norm(double p = 2, long[]? dims = null, bool keepdim = false) => s_norm.Call(this, p, dims, keepdim);
    public Tensor LogSumExp(long dim, bool keepdim = false) => s_logsumexp.Call(this, new[] { dim }, keepdim);
    public Tensor LogSumExp(long[] dims, bool keepdim = false) => s_logsumexp.Call(this, dims, keepdim);
    public Tensor Prod(ScalarType? dtype = null) => s_prod.Call(this, Arg.Of(dtype));
    public Tensor All() => s_all.Call(this);
    public Tensor Any() => s_any.Call(this);
    public Tensor Cumsum(long dim) => s_cumsum.Call(this, dim);
    public (Tensor Values, Tensor Indices) Sort(long dim = -1, bool descending = false)
    {
        var r = s_sort.CallTensors(this, dim, descending);
        return (r[0], r[1]);
    }
    public (Tensor Values, Tensor Indices) TopK(long k, long dim = -1, bool largest = true, bool sorted = true)
    {
        var r = s_topk.CallTensors(this, k, dim, largest, sorted);
        return (r[0], r[1]);
    }
}
