using Engine.Interop;

namespace Engine.Optim;

public sealed class RAdamOptions : MomentOptions
{
}

/// <summary>
/// RAdam, rectified Adam (Liu et al., 2020), torch.optim.RAdam: while too few gradients have been
/// seen for the second moment's variance to be tractable (ρₜ ≤ 5), step with the bias-corrected
/// momentum alone (SGD with momentum); afterwards take Adam's step scaled by the rectification rₜ.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λθ              (weight decay)
/// m ← β₁·m + (1 − β₁)·g,  m̂ = m / (1 − β₁ᵗ)             exp_avg
/// v ← β₂·v + (1 − β₂)·g²                                 exp_avg_sq
/// ρ∞ = 2/(1 − β₂) − 1,  ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)       length of the approximated SMA
/// if ρₜ > 5:  rₜ = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
///             θ ← θ − η·m̂·rₜ·√(1 − β₂ᵗ) / (√v + ε)
/// else:       θ ← θ − η·m̂
/// </code>
/// Mirrors PyTorch 1.13's _single_tensor_radam. PyTorch 1.13's RAdam has no maximize; here it
/// negates the gradient first, as PyTorch 2 does. Checked against Python PyTorch's trajectories.
/// </summary>
public sealed class RAdam : Optimizer
{
    /// <summary>The SMA length above which the adaptive step is used (PyTorch's threshold).</summary>
    const double SmaThreshold = 5;

    public RAdam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, maximize) { }

    public RAdam(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool maximize = false)
        : base(groups, new RAdamOptions
        {
            LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Maximize = maximize,
        }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (RAdamOptions)group.Options;
        if (Choose(group, hasFused: true, hasForeach: false) == Implementation.Fused) UpdateFused(group, o);
        else
            foreach (var p in group.Parameters) UpdateReadable(p, o);
    }

    /// <summary>The parameter's state, created on its first step, with the step count advanced.</summary>
    (Tensor ExpAvg, Tensor ExpAvgSq, long Step) Buffers(Tensor p)
    {
        var state = State(p);
        var m = state.Zeros("exp_avg", p);
        var v = state.Zeros("exp_avg_sq", p);
        return (m, v, ++state.Step);
    }

    /// <summary>The rectification rₜ at step t, or null while ρₜ ≤ 5 (no adaptive step yet).</summary>
    static double? Rectification(RAdamOptions o, long t)
    {
        double biasCorrection2 = 1 - Math.Pow(o.Beta2, t);
        double rhoInf = 2 / (1 - o.Beta2) - 1;
        double rhoT = rhoInf - 2 * t * Math.Pow(o.Beta2, t) / biasCorrection2;
        if (!(rhoT > SmaThreshold)) return null;
        return Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
    }

    /// <summary>The update for one parameter, op by op.</summary>
    void UpdateReadable(Tensor p, RAdamOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
        if (o.Maximize) g = -g;
        var (m, v, t) = Buffers(p);
        double biasCorrection1 = 1 - Math.Pow(o.Beta1, t);
        double biasCorrection2 = 1 - Math.Pow(o.Beta2, t);
        if (o.WeightDecay != 0) g = g.Add(p, alpha: o.WeightDecay);

        m.Mul_(o.Beta1).Add_(g, alpha: 1 - o.Beta1);
        v.Mul_(o.Beta2).Addcmul_(g, g, value: 1 - o.Beta2);
        var mHat = m / biasCorrection1;
        if (Rectification(o, t) is double rect)
        {
            var adaptiveLr = Math.Sqrt(biasCorrection2) / v.Sqrt().Add_(o.Eps);
            p.Add_(mHat * o.LearningRate * adaptiveLr * rect, alpha: -1);
        }
        else p.Add_(mHat * o.LearningRate, alpha: -1);
    }

    /// <summary>One SIMD sweep per parameter over p, g, m and v (CPU).</summary>
    unsafe void UpdateFused(ParamGroup group, RAdamOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = GradForKernel(p, out var g);
            if (access == GradAccess.None) continue;
            if (access == GradAccess.NotDense) { UpdateReadable(p, o); continue; }
            var (m, v, t) = Buffers(p);
            long n = p.NumEl;
            if (n == 0) continue;
            var rect = Rectification(o, t);
            var args = new Kernels.RAdamKernel.Args
            {
                P = p.DataPointer, G = g, ExpAvg = m.DataPointer, ExpAvgSq = v.DataPointer,
                Beta1 = o.Beta1, Beta2 = o.Beta2, Eps = o.Eps, Lr = o.LearningRate,
                BiasCorrection1 = 1 - Math.Pow(o.Beta1, t), BiasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(o.Beta2, t)),
                Rectification = rect ?? 0, Rectified = rect is not null,
                WeightDecay = o.WeightDecay, Maximize = o.Maximize,
            };
            Kernels.RAdamKernel.Step(p.DType, args, n);
            GC.KeepAlive(p);
        }
    }
}
