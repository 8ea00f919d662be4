namespace Engine.Autograd;

/// <summary>
/// The seeds' "gradient check": in practice one always uses the analytic gradient, and the
/// numerical gradient checks it. Compares TorchSharp autograd's gradients with central
/// differences, (f(x + ε) − f(x − ε)) / 2ε, computed in float64, element by element, for every
/// output element and every element of every input that requires grad. Use it to prove a new op,
/// loss or layer differentiates correctly.
/// </summary>
/// <remarks>
/// The analytic Jacobian comes from <c>backward()</c> on the output, one row per output element,
/// not from <c>torch.autograd.grad</c>: TorchSharp 0.107's autograd.grad aborts the process when an
/// input is unused or the output does not require grad, and backward() raises a managed error or
/// simply leaves an unused input's grad empty (read as 0). It runs on private leaf copies of the
/// inputs (same shape and strides), so the caller's tensors and their .grad are never touched.
/// </remarks>
public static class GradCheck
{
    /// <summary>Outcome of a check: whether every element passed, the worst disagreement and where it was.</summary>
    public sealed record Result(bool Passed, double MaxAbsError, double MaxRelError, string Report)
    {
        /// <summary>Throws <see cref="GradCheckException"/> unless the check passed; returns this otherwise.</summary>
        public Result ThrowIfFailed() => Passed ? this : throw new GradCheckException(this);
    }

    /// <summary>
    /// Checks every output element's gradient with respect to every element of every input that
    /// requires grad. Those inputs must be float64 (finite differences in float32 are noise), and so
    /// must f's output. An element passes when |analytic − numeric| ≤ atol + rtol·|numeric|
    /// (torch.autograd.gradcheck's rule).
    /// </summary>
    /// <param name="f">The function; it may be called many times and must be deterministic.</param>
    /// <param name="inputs">Its arguments; those with requires_grad are checked, the rest passed as is.</param>
    public static Result Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(inputs);
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "GradCheck: eps must be > 0");
        var checkedIndices = Enumerable.Range(0, inputs.Length).Where(i => inputs[i].requires_grad).ToArray();
        if (checkedIndices.Length == 0) throw new ArgumentException("GradCheck: no input requires grad, so there is nothing to check");
        foreach (int i in checkedIndices)
            if (inputs[i].dtype != ScalarType.Float64)
                throw new ArgumentException(
                    $"GradCheck needs float64 inputs; input {i} is {inputs[i].dtype.ToString().ToLowerInvariant()} [{string.Join(", ", inputs[i].shape)}]: convert with .to(ScalarType.Float64)");

        using var scope = NewDisposeScope();
        var args = (Tensor[])inputs.Clone();
        var leaves = checkedIndices.Select(i => args[i] = LeafCopy(inputs[i])).ToArray();

        // Analytic Jacobian, one row per output element: d out[k] / d leaves.
        var output = f(args);
        if (output.dtype != ScalarType.Float64)
            throw new ArgumentException($"GradCheck: f must return float64 (given float64 inputs), got {output.dtype.ToString().ToLowerInvariant()}");
        long nOut = output.numel();
        var analytic = new double[leaves.Length][][];
        for (int i = 0; i < leaves.Length; i++) analytic[i] = new double[nOut][];
        var flatOut = output.reshape(-1);
        for (long k = 0; k < nOut; k++)
        {
            using var step = NewDisposeScope();
            if (flatOut.requires_grad)
            {
                var oneHot = zeros_like(flatOut);
                oneHot[k] = 1.0;
                flatOut.backward([oneHot], retain_graph: true);
            }
            // No path to the output (it does not require grad): every analytic entry is 0.
            for (int i = 0; i < leaves.Length; i++)
            {
                var grad = leaves[i].grad;
                analytic[i][k] = grad is null ? new double[leaves[i].numel()] : grad.contiguous().cpu().data<double>().ToArray();
                grad?.zero_();
            }
        }

        // Numerical Jacobian by central differences, one input element at a time.
        double maxAbs = 0, maxRel = 0, worstFailure = -1;
        string worst = "";
        bool passed = true;
        using (no_grad())
        {
            for (int i = 0; i < leaves.Length; i++)
            {
                var x = leaves[i];
                var shape = x.shape;
                long n = x.numel();
                for (long j = 0; j < n; j++)
                {
                    using var step = NewDisposeScope();
                    var at = Unravel(j, shape);
                    double orig = x[at].item<double>();
                    x[at] = orig + eps;
                    var plus = Flat(f(args));
                    x[at] = orig - eps;
                    var minus = Flat(f(args));
                    x[at] = orig;
                    for (long k = 0; k < nOut; k++)
                    {
                        double numeric = (plus[k] - minus[k]) / (2 * eps);
                        double a = analytic[i][k][j];
                        double err = Math.Abs(a - numeric);
                        if (double.IsNaN(err)) err = double.PositiveInfinity;
                        double rel = err / Math.Max(Math.Abs(numeric), 1e-12);
                        maxAbs = Math.Max(maxAbs, err);
                        maxRel = Math.Max(maxRel, rel);
                        if (err <= atol + rtol * Math.Abs(numeric) || err <= worstFailure) continue;
                        // The failing element with the largest error is the one to report.
                        passed = false;
                        worstFailure = err;
                        worst = $"input {checkedIndices[i]} element [{string.Join(", ", Multi(j, shape))}], " +
                                $"output {k}: analytic {a:G9}, numeric {numeric:G9}";
                    }
                }
            }
        }
        return new Result(passed, maxAbs, maxRel,
            passed ? $"gradients agree (max abs error {maxAbs:G3}, max rel error {maxRel:G3})" : $"gradient mismatch at {worst}");
    }

    /// <summary>Like <see cref="Check"/>, but throws <see cref="GradCheckException"/> on a mismatch.</summary>
    public static Result Verify(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3) =>
        Check(f, inputs, eps, atol, rtol).ThrowIfFailed();

    /// <summary>A float64 leaf with x's values, shape and (where they describe dense, non-overlapping
    /// memory) strides, so a function sensitive to layout sees the same layout.</summary>
    static Tensor LeafCopy(Tensor x)
    {
        using var source = x.detach();
        var strides = x.stride();
        long span = 1;
        for (int d = 0; d < strides.Length; d++) span += (x.shape[d] - 1) * strides[d];
        bool dense = x.numel() > 0 && strides.All(s => s > 0) && span == x.numel();
        var copy = dense ? empty_strided(x.shape, strides, ScalarType.Float64, x.device).copy_(source) : source.clone();
        return copy.requires_grad_();
    }

    static double[] Flat(Tensor t) => t.detach().to(ScalarType.Float64).contiguous().reshape(-1).cpu().data<double>().ToArray();

    /// <summary>The row-major multi-index of flat position <paramref name="j"/> in <paramref name="shape"/>.</summary>
    static TensorIndex[] Unravel(long j, long[] shape)
    {
        // libtorch rejects an empty index list: a 0-d tensor is indexed by "...".
        if (shape.Length == 0) return [TensorIndex.Ellipsis];
        return Multi(j, shape).Select(i => TensorIndex.Single(i)).ToArray();
    }

    static long[] Multi(long j, long[] shape)
    {
        var at = new long[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--) { at[d] = j % shape[d]; j /= shape[d]; }
        return at;
    }
}

/// <summary>A gradient check failed: autograd's gradient disagrees with central differences.</summary>
public sealed class GradCheckException(GradCheck.Result result) : Exception($"GradCheck: {result.Report}")
{
    public GradCheck.Result Result { get; } = result;
}
