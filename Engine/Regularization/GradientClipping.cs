namespace Engine.Regularization;

/// <summary>What <c>GradientClipping.ClipGradNorm</c> does when the total norm is NaN or ±∞.</summary>
public enum NonFiniteNorm
{
    /// <summary>Scale anyway (PyTorch's default, error_if_nonfinite = false): gradients become NaN.</summary>
    Propagate,
    /// <summary>Throw (error_if_nonfinite = true), gradients untouched. Reads the norm on the host (a device sync).</summary>
    Error,
    /// <summary>Leave the gradients untouched and return the non-finite norm, so the caller can skip the step.
    /// Decided on the device (no sync).</summary>
    Skip,
}

/// <summary>
/// Gradient clipping (the seeds' "implicit" regularizers; "clip by norm (recommended)" for RNNs and
/// Transformers, 1.0–5.0; "clip by value" 0.5–1.0):
/// <code>
/// by global norm:  ‖g‖_p = ‖(‖g₁‖_p, …, ‖g_k‖_p)‖_p     (‖·‖_∞ = max |·|)
///                  g ← g · min(1, c / (‖g‖_p + 10⁻⁶))
/// by value:        g ← clamp(g, −c, c)
/// </code>
/// The norm is computed per parameter and then over the per-parameter norms, in the order of
/// libtorch's <c>torch::nn::utils::clip_grad_norm_</c>, so results equal TorchSharp's
/// <c>nn.utils.clip_grad_norm_</c> / <c>clip_grad_value_</c> (checked in tests). Parameters without
/// a gradient are skipped.
/// </summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients together so that their global p-norm is at most <paramref name="maxNorm"/>.
    /// Returns the total norm before clipping (a 0-dim tensor on the gradients' device; 0 when no
    /// parameter has a gradient).
    /// </summary>
    /// <param name="normType">p &gt; 0 or <see cref="double.PositiveInfinity"/>; passed to libtorch as a float, as TorchSharp's <c>norm</c> takes it.</param>
    public static Tensor ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2.0,
        NonFiniteNorm nonFinite = NonFiniteNorm.Propagate)
    {
        const string call = nameof(ClipGradNorm);
        Checks.Positive(call, maxNorm, nameof(maxNorm));
        if (!(normType > 0))
            throw new ArgumentOutOfRangeException(nameof(normType), normType, $"{call}: norm type {normType} must be positive (or +∞)");
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToList();
        if (grads.Count == 0) return zeros([]);
        using var scope = NewDisposeScope();
        var dtypes = grads.Select(g => g.dtype).Distinct().ToList();
        var devices = grads.Select(g => g.device.ToString()).Distinct().ToList();
        if (devices.Count > 1)
            throw new ArgumentException($"{call}: gradients lie on several devices ({string.Join(", ", devices)}); clip each device's parameters separately", nameof(parameters));
        Tensor total;
        if (double.IsPositiveInfinity(normType))
        {
            var norms = grads.Select(g => g.abs().max()).ToList();
            total = norms.Count == 1 ? norms[0] : stack(Promote(norms, dtypes)).max();
        }
        else
        {
            var norms = grads.Select(g => g.norm((float)normType)).ToList();
            total = norms.Count == 1 ? norms[0] : stack(Promote(norms, dtypes)).norm((float)normType);
        }
        if (nonFinite == NonFiniteNorm.Error && !total.isfinite().item<bool>())
            throw new InvalidOperationException($"{call}: the total {normType}-norm of the gradients is {total.to(ScalarType.Float64).item<double>()}; refusing to clip (nonFinite = Error)");
        var coef = total.add(1e-6).reciprocal().mul_(maxNorm).clamp_max_(1.0);
        if (nonFinite == NonFiniteNorm.Skip)
            coef = where(total.isfinite(), coef, ones_like(coef));
        foreach (var g in grads) g.mul_(coef.to(g.dtype));
        return total.MoveToOuterDisposeScope();
    }

    /// <summary><see cref="ClipGradNorm(IEnumerable{Tensor}, double, double, NonFiniteNorm)"/> over a module's parameters.</summary>
    public static Tensor ClipGradNorm(nn.Module module, double maxNorm, double normType = 2.0, NonFiniteNorm nonFinite = NonFiniteNorm.Propagate) =>
        ClipGradNorm(module.parameters(), maxNorm, normType, nonFinite);

    /// <summary>Clamps every gradient element into [−clipValue, clipValue], in place.</summary>
    public static void ClipGradValue(IEnumerable<Tensor> parameters, double clipValue)
    {
        Checks.Positive(nameof(ClipGradValue), clipValue, nameof(clipValue));
        foreach (var p in parameters)
        {
            var g = p.grad;
            g?.clamp_(-clipValue, clipValue);
        }
    }

    static IEnumerable<Tensor> Promote(List<Tensor> norms, List<ScalarType> dtypes) =>
        dtypes.Count == 1 ? norms : norms.Select(n => n.to(ScalarType.Float64));
}
