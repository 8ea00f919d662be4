namespace Engine;

/// <summary>
/// Guarded versions of the TorchSharp calls that abort the process on bad input (see
/// <see cref="Check"/>): each checks its arguments, throws a managed exception naming the call
/// and the shapes when they are wrong, and otherwise calls TorchSharp unchanged. Engine's own code
/// calls these instead of the raw ops wherever the input comes from a user.
/// </summary>
public static class Ops
{
    /// <summary>torch.matmul(a, b) after <see cref="Check.MatmulShapes"/>: TorchSharp 0.107's
    /// matmul aborts the process when the shapes do not match.</summary>
    public static Tensor Matmul(Tensor a, Tensor b, string call = "Engine.Ops.Matmul")
    {
        Check.MatmulShapes(call, a, b);
        return a.matmul(b);
    }

    /// <summary>torch.cummax(input, dim) after checking dim: an out-of-range dim aborts the process.</summary>
    public static (Tensor values, Tensor indices) Cummax(Tensor input, long dim, string call = "Engine.Ops.Cummax")
    {
        Check.Dim(call, input, dim);
        return torch.cummax(input, dim);
    }

    /// <summary>torch.cummin(input, dim) after checking dim: an out-of-range dim aborts the process.</summary>
    public static (Tensor values, Tensor indices) Cummin(Tensor input, long dim, string call = "Engine.Ops.Cummin")
    {
        Check.Dim(call, input, dim);
        return torch.cummin(input, dim);
    }

    /// <summary>input.var(dim) after checking the dtype and dim: var over a dim of an integer
    /// tensor aborts the process.</summary>
    public static Tensor Var(Tensor input, long dim, bool unbiased = true, bool keepdim = false, string call = "Engine.Ops.Var")
    {
        Check.FloatingPoint(call, input);
        Check.Dim(call, input, dim);
        return input.var(dim, unbiased, keepdim);
    }

    /// <summary>torch.set_num_threads(n) for n ≥ 1: 0 aborts the process.</summary>
    public static void SetNumThreads(int threads, string call = "Engine.Ops.SetNumThreads")
    {
        Check.Positive(call, threads, "threads");
        torch.set_num_threads(threads);
    }
}
