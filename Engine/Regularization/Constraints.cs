namespace Engine.Regularization;

/// <summary>
/// Weight constraints applied after each optimizer step (Keras's kernel constraints; max-norm is
/// the seeds' explicit regularizer, Srivastava et al. 2014 §5.1 pair it with dropout). Unit i is a
/// row of the weight (one output neuron's incoming weights, one conv filter), TorchSharp's
/// [out, in, ...] layout; a `dims` argument overrides the dims the norm runs over.
/// <code>
/// max-norm:      w_i ← w_i · c / (‖w_i‖ + 10⁻⁷)   where ‖w_i‖ &gt; c; other rows untouched (= torch.renorm)
/// unit-norm:     w_i ← w_i / (‖w_i‖ + 10⁻⁷)
/// non-negative:  w ← max(w, 0)
/// </code>
/// The 10⁻⁷ is libtorch's renorm and Keras's epsilon; MaxNorm equals TorchSharp's <c>renorm(2, 0, c)</c> on rows (checked). All work in place under no_grad, so the optimizer's references stay valid.
/// </summary>
public static class Constraints
{
    const double Epsilon = 1e-7;

    public static void MaxNorm(IEnumerable<Tensor> weights, double maxNorm, long[]? dims = null)
    {
        Checks.Positive(nameof(MaxNorm), maxNorm, nameof(maxNorm));
        using var noGrad = no_grad();
        foreach (var w in weights)
        {
            using var scope = NewDisposeScope();
            var norm = RowNorm(w, dims);
            var factor = where(norm.gt(maxNorm), norm.add(Epsilon).reciprocal().mul_(maxNorm), ones_like(norm));
            w.mul_(factor);
        }
    }

    public static void UnitNorm(IEnumerable<Tensor> weights, long[]? dims = null)
    {
        using var noGrad = no_grad();
        foreach (var w in weights)
        {
            using var scope = NewDisposeScope();
            w.div_(RowNorm(w, dims).add_(Epsilon));
        }
    }

    public static void NonNegative(IEnumerable<Tensor> weights)
    {
        using var noGrad = no_grad();
        foreach (var w in weights) w.clamp_min_(0);
    }

    static Tensor RowNorm(Tensor w, long[]? dims)
    {
        if (dims is not null) return linalg.vector_norm(w, 2, dims, keepdim: true);
        return w.dim() <= 1 ? w.norm() : linalg.vector_norm(w, 2, Enumerable.Range(1, (int)w.dim() - 1).Select(d => (long)d).ToArray(), keepdim: true);
    }
}
