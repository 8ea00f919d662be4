namespace Engine.Optim;

public sealed class RAdamOptions : MomentOptions
{
    /// <summary>PyTorch 2.x's decoupled_weight_decay: θ ← θ·(1 − ηλ) instead of adding λθ to the gradient.</summary>
    public bool DecoupledWeightDecay { get; set; }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Append(("decoupled_weight_decay", DecoupledWeightDecay ? 1 : 0));

    public override void SetValue(string name, double value)
    {
        if (name == "decoupled_weight_decay") DecoupledWeightDecay = value != 0;
        else base.SetValue(name, value);
    }
}

/// <summary>
/// RAdam, rectified Adam (Liu et al., 2020, "On the Variance of the Adaptive Learning Rate and
/// Beyond", Algorithm 2), torch.optim.RAdam: while too few gradients have been seen for the second
/// moment's variance to be tractable (ρₜ ≤ 5), step with the bias-corrected momentum alone (SGD
/// with momentum); afterwards take Adam's step scaled by the rectification rₜ.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λθ   (or θ ← θ(1 − ηλ) with decoupled weight decay)
/// m ← β₁·m + (1 − β₁)·g,  m̂ = m / (1 − β₁ᵗ)             exp_avg
/// v ← β₂·v + (1 − β₂)·g²                                 exp_avg_sq
/// ρ∞ = 2/(1 − β₂) − 1,  ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)       length of the approximated SMA
/// if ρₜ > 5:  rₜ = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ))
///             θ ← θ − η·m̂·rₜ·√(1 − β₂ᵗ) / (√v + ε)
/// else:       θ ← θ − η·m̂
/// </code>
/// In PyTorch's operation order (1.13 and 2.x agree). Checked against Python PyTorch 1.13's
/// trajectories, a float64 formula, and TorchSharp's torch.optim.RAdam at lr = 1 (TorchSharp
/// 0.107 multiplies the rectified step by lr twice; at lr = 1 that is invisible).
/// </summary>
public sealed class RAdam : Optimizer, torch.optim.IBetas
{
    /// <summary>The SMA length above which the adaptive step is used (PyTorch's threshold).</summary>
    const double SmaThreshold = 5;

    public RAdam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, decoupledWeightDecay, maximize) { }

    public RAdam(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false, bool maximize = false)
        : base(groups, new RAdamOptions
        {
            Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay,
            DecoupledWeightDecay = decoupledWeightDecay, Maximize = maximize,
        }) { }

    /// <summary>The first group's (β₁, β₂); setting it sets every group's.</summary>
    public (double, double) Betas
    {
        get => Groups[0].Betas;
        set { foreach (var g in Groups) g.Betas = value; }
    }

    protected override void Update(ParamGroup group)
    {
        var o = (RAdamOptions)group.Options;
        bool fused = Choose(group, hasFused: true, hasFlat: false) == Implementation.Fused;
        foreach (var p in group.Parameters)
        {
            if (fused) UpdateFused(p, o);
            else
            {
                using var g = p.grad;
                if (g is null) continue;
                var state = State(p);
                Update(p, g, state.Zeros("exp_avg"), state.Zeros("exp_avg_sq"), ++state.Step, o);
            }
        }
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

    /// <summary>The update of one parameter, op by op.</summary>
    void Update(Tensor p, Tensor g, Tensor m, Tensor v, long t, RAdamOptions o)
    {
        if (o.Maximize) g = g.neg();
        if (o.WeightDecay != 0)
        {
            if (o.DecoupledWeightDecay) p.mul_(1 - o.Lr * o.WeightDecay);
            else g = g.add(p, alpha: o.WeightDecay);
        }
        m.mul_(o.Beta1).add_(g, alpha: 1 - o.Beta1);
        v.mul_(o.Beta2).addcmul_(g, g, value: 1 - o.Beta2);
        var mHat = m.div(1 - Math.Pow(o.Beta1, t));
        if (Rectification(o, t) is double rect)
        {
            var adaptiveLr = v.sqrt().add_(o.Eps).reciprocal_().mul_(Math.Sqrt(1 - Math.Pow(o.Beta2, t)));
            p.sub_(mHat.mul_(o.Lr).mul_(adaptiveLr).mul_(rect));
        }
        else p.sub_(mHat.mul_(o.Lr));
    }

    /// <summary>One SIMD sweep over p, g, m, v (CPU).</summary>
    void UpdateFused(Parameter p, RAdamOptions o)
    {
        var access = NativeTensor.GradData(p, out var g);
        if (access == NativeTensor.Grad.None) return;
        var state = State(p);
        var m = state.Zeros("exp_avg");
        var v = state.Zeros("exp_avg_sq");
        long t = ++state.Step;
        if (access == NativeTensor.Grad.NotDense)
        {
            using var grad = p.grad!;
            using var dense = grad.to(p.dtype).contiguous();
            Update(p, dense, m, v, t, o);
            return;
        }
        long n = p.numel();
        if (n == 0) return;
        var rect = Rectification(o, t);
        bool decoupled = o.DecoupledWeightDecay && o.WeightDecay != 0;
        var args = new Kernels.RAdamKernel.Args
        {
            P = NativeTensor.Data(p), G = g, ExpAvg = NativeTensor.Data(m), ExpAvgSq = NativeTensor.Data(v),
            Beta1 = o.Beta1, Beta2 = o.Beta2, Eps = o.Eps, Lr = o.Lr,
            BiasCorrection1 = 1 - Math.Pow(o.Beta1, t), BiasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(o.Beta2, t)),
            Rectification = rect ?? 0, Rectified = rect is not null,
            WeightDecay = decoupled ? 0 : o.WeightDecay, DecayFactor = decoupled ? 1 - o.Lr * o.WeightDecay : 1,
            Maximize = o.Maximize,
        };
        Kernels.RAdamKernel.Step(p.dtype, args, n);
        GC.KeepAlive(p);
        GC.KeepAlive(m);
        GC.KeepAlive(v);
    }
}
