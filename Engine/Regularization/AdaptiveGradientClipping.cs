namespace Engine.Regularization;

/// <summary>
/// Adaptive gradient clipping, AGC (Brock et al., 2021, "High-Performance Large-Scale Image
/// Recognition Without Normalization", eq. 3), unit-wise: each unit i (a row of a weight — one
/// output neuron or filter — or a whole bias/vector parameter) is clipped relative to its own weight norm:
/// <code>
/// G_i ← λ · max(‖W_i‖, ε) / ‖G_i‖ · G_i    if ‖G_i‖ / max(‖W_i‖, ε) &gt; λ
/// G_i ← G_i                                  otherwise
/// </code>
/// ‖·‖ is the Frobenius norm over all dims but the first (over the whole tensor for 0-d and 1-d
/// parameters). ε = 10⁻³ keeps zero-initialised weights from freezing. The paper advises not clipping
/// the final classifier layer. Checked against a float64 loop written from eq. 3.
/// </summary>
public static class AdaptiveGradientClipping
{
    /// <param name="clipping">λ, the largest allowed ‖G_i‖/‖W_i‖ (the paper uses 0.01–0.16 depending on batch size).</param>
    /// <param name="eps">ε, floor on the weight norm.</param>
    public static void Clip(IEnumerable<Tensor> parameters, double clipping = 0.01, double eps = 1e-3)
    {
        const string call = nameof(AdaptiveGradientClipping);
        Checks.Positive(call, clipping, nameof(clipping));
        Checks.NonNegative(call, eps, nameof(eps));
        using var noGrad = no_grad();
        foreach (var p in parameters)
        {
            var g = p.grad;
            if (g is null) continue;
            using var scope = NewDisposeScope();
            var maxNorm = UnitNorm(p).clamp_min_(eps).mul_(clipping);
            var gradNorm = UnitNorm(g);
            // 1e-6 floor: a zero gradient is below any threshold and must not divide by 0.
            var clipped = g.mul(maxNorm.div(gradNorm.clamp_min(1e-6)));
            g.copy_(where(gradNorm.gt(maxNorm), clipped, g));
        }
    }

    /// <summary>‖x_i‖ per unit: over dims 1.. with keepdim for rank ≥ 2, over everything for rank ≤ 1.</summary>
    internal static Tensor UnitNorm(Tensor x) =>
        x.dim() <= 1
            ? x.norm()
            : linalg.vector_norm(x, 2, Enumerable.Range(1, (int)x.dim() - 1).Select(d => (long)d).ToArray(), keepdim: true);
}
