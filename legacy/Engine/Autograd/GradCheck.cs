namespace Engine;

/// <summary>
/// The seeds' "gradient check": compares autograd's gradients with central differences,
/// (f(x + eps) - f(x - eps)) / (2 eps), computed in float64, element by element. Use it to prove
/// a new op, loss or layer differentiates correctly.
/// </summary>
public static class GradCheck
{
    /// <summary>Outcome of a check: the worst disagreement and where it was.</summary>
    public sealed record Result(bool Passed, double MaxAbsError, double MaxRelError, string Report);

    /// <summary>
    /// Checks every output element's gradient with respect to every element of every input.
    /// <paramref name="inputs"/> must be float64 (finite differences in float32 are noise); those
    /// with RequiresGrad are checked. An element passes when |analytic - numeric| &lt;= atol + rtol*|numeric|.
    /// </summary>
    public static Result Check(Func<Tensor[], Tensor> f, Tensor[] inputs, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        foreach (var x in inputs)
            if (x.DType != ScalarType.Float64)
                throw new ArgumentException($"GradCheck needs float64 inputs; got {x.DType.TorchName()}: convert with .Double()");
        using var scope = DisposeScope.Begin();
        var checkedInputs = inputs.Where(x => x.RequiresGrad).ToArray();
        if (checkedInputs.Length == 0) throw new ArgumentException("GradCheck: no input requires grad");

        // Analytic Jacobian, one row per output element: d out[k] / d inputs.
        var output = f(inputs);
        long nOut = output.NumEl;
        var flatOut = output.Reshape(-1);
        var analytic = new double[checkedInputs.Length][][];
        for (int i = 0; i < checkedInputs.Length; i++) analytic[i] = new double[nOut][];
        for (long k = 0; k < nOut; k++)
        {
            var oneHot = Torch.ZerosLike(flatOut);
            oneHot.IndexFill_(1.0, k);
            var grads = Autograd.Grad([flatOut], checkedInputs, [oneHot], retainGraph: true, allowUnused: true);
            for (int i = 0; i < checkedInputs.Length; i++)
                analytic[i][k] = grads[i]?.Reshape(-1).ToArray<double>() ?? new double[checkedInputs[i].NumEl];
        }

        // Numerical Jacobian by central differences, one input element at a time.
        double maxAbs = 0, maxRel = 0;
        string worst = "";
        bool passed = true;
        using (Torch.NoGrad())
        {
            for (int i = 0; i < checkedInputs.Length; i++)
            {
                var x = checkedInputs[i];
                var shape = x.Shape;
                long n = x.NumEl;
                for (long j = 0; j < n; j++)
                {
                    // Perturb x itself through its multi-index: a reshape of a non-contiguous
                    // input would be a copy, and the perturbation would never reach f.
                    var at = Unravel(j, shape);
                    double orig = x[at].Item<double>();
                    x.IndexFill_(orig + eps, at);
                    var plus = f(inputs).Reshape(-1).ToArray<double>();
                    x.IndexFill_(orig - eps, at);
                    var minus = f(inputs).Reshape(-1).ToArray<double>();
                    x.IndexFill_(orig, at);
                    for (long k = 0; k < nOut; k++)
                    {
                        double numeric = (plus[k] - minus[k]) / (2 * eps);
                        double a = analytic[i][k][j];
                        double err = Math.Abs(a - numeric);
                        double rel = err / Math.Max(Math.Abs(numeric), 1e-12);
                        if (err > maxAbs) { maxAbs = err; worst = $"input {i} element {j}, output {k}: analytic {a:G9}, numeric {numeric:G9}"; }
                        maxRel = Math.Max(maxRel, rel);
                        if (!(err <= atol + rtol * Math.Abs(numeric))) passed = false;
                    }
                }
            }
        }
        return new Result(passed, maxAbs, maxRel, passed ? $"gradients agree (max abs error {maxAbs:G3})" : $"gradient mismatch at {worst}");
    }

    /// <summary>The row-major multi-index of flat position <paramref name="j"/> in <paramref name="shape"/>.</summary>
    static TensorIndex[] Unravel(long j, long[] shape)
    {
        var at = new TensorIndex[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            at[d] = j % shape[d];
            j /= shape[d];
        }
        return at;
    }
}
