namespace Engine.Optim;

public sealed class NAdamOptions : MomentOptions
{
    /// <summary>ψ: how fast the momentum schedule μₜ = β₁(1 − ½·0.96^(tψ)) approaches β₁.</summary>
    public double MomentumDecay { get; set; } = 4e-3;

    /// <summary>NAdamW (PyTorch 2.2's decoupled_weight_decay): θ ← θ·(1 − ηλ) instead of adding λθ to the gradient.</summary>
    public bool DecoupledWeightDecay { get; set; }

    /// <summary>PyTorch before 2.0 divided the look-ahead term by 1 − Πμ·μₜ·μₜ₊₁, counting μₜ twice
    /// (fixed by pytorch/pytorch#92699). True reproduces PyTorch 1.13's trajectories; the default
    /// follows PyTorch 2.x and TorchSharp 0.107.</summary>
    public bool Pytorch113LookAhead { get; set; }

    public override void Validate()
    {
        base.Validate();
        CheckNonNegative(MomentumDecay, "momentum_decay");
    }

    public override IEnumerable<(string Name, double Value)> Values() => base.Values().Concat([
        ("momentum_decay", MomentumDecay), ("decoupled_weight_decay", DecoupledWeightDecay ? 1 : 0),
        ("pytorch113_look_ahead", Pytorch113LookAhead ? 1 : 0)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "momentum_decay": MomentumDecay = value; break;
            case "decoupled_weight_decay": DecoupledWeightDecay = value != 0; break;
            case "pytorch113_look_ahead": Pytorch113LookAhead = value != 0; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// NAdam (Dozat, 2016, "Incorporating Nesterov Momentum into Adam"), torch.optim.NAdam: Adam
/// whose step looks ahead along the next momentum, with a warming-up momentum schedule μₜ.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λθ   (or θ ← θ(1 − ηλ) with decoupled weight decay)
/// μₜ = β₁(1 − ½·0.96^(tψ)),  μₜ₊₁ = β₁(1 − ½·0.96^((t+1)ψ))      momentum schedule
/// Πμ ← Πμ·μₜ                                                       mu_product (a double, as TorchSharp)
/// m ← β₁·m + (1 − β₁)·g                                            exp_avg
/// v ← β₂·v + (1 − β₂)·g²                                           exp_avg_sq
/// d = √(v / (1 − β₂ᵗ)) + ε
/// θ ← θ − η(1 − μₜ)/(1 − Πμ) · g/d − η·μₜ₊₁/(1 − Πμ·μₜ₊₁) · m/d
/// </code>
/// This is PyTorch 2.x's formula, which TorchSharp 0.107's NAdam follows (checked in the tests);
/// PyTorch 1.13 divided the look-ahead term by 1 − Πμ·μₜ·μₜ₊₁ (<see cref="NAdamOptions.Pytorch113LookAhead"/>).
/// Checked against TorchSharp's torch.optim.NAdam in the same process and Python PyTorch 1.13's
/// trajectories (with the 1.13 look-ahead).
/// </summary>
public sealed class NAdam : Optimizer, torch.optim.IBetas
{
    public NAdam(IEnumerable<Parameter> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3, bool decoupledWeightDecay = false,
        bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, momentumDecay, decoupledWeightDecay, maximize) { }

    public NAdam(IEnumerable<ParamGroupSpec> groups, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3, bool decoupledWeightDecay = false,
        bool maximize = false)
        : base(groups, new NAdamOptions
        {
            Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, MomentumDecay = momentumDecay,
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
        var o = (NAdamOptions)group.Options;
        bool fused = Choose(group, hasFused: true, hasFlat: false) == Implementation.Fused;
        foreach (var p in group.Parameters)
        {
            if (fused) UpdateFused(p, o);
            else
            {
                using var g = p.grad;
                if (g is null) continue;
                Update(p, g, o);
            }
        }
    }

    /// <summary>The momentum cache μₜ.</summary>
    static double Mu(NAdamOptions o, long t) => o.Beta1 * (1.0 - 0.5 * Math.Pow(0.96, t * o.MomentumDecay));

    /// <summary>Advances the step and Πμ; returns the two step sizes of the update.</summary>
    (long T, double GradStep, double MomentStep) Schedule(Parameter p, NAdamOptions o)
    {
        var state = State(p);
        long t = ++state.Step;
        // Πμ is a double kept in a 0-d float64 CPU tensor, so state_dict carries it; read and
        // written through its address (no managed wrapper per step).
        var product = state.GetOrCreate("mu_product", () => ones(Array.Empty<long>(), ScalarType.Float64));
        double mu = Mu(o, t), muNext = Mu(o, t + 1);
        double muProduct;
        if (product.device_type == DeviceType.CPU && product.dtype == ScalarType.Float64)
        {
            unsafe
            {
                var ptr = (double*)NativeTensor.Data(product);
                muProduct = *ptr *= mu;
            }
            GC.KeepAlive(product);
        }
        else
        {
            muProduct = product.ToDouble() * mu;
            product.fill_(muProduct);
        }
        double productNext = o.Pytorch113LookAhead ? muProduct * mu * muNext : muProduct * muNext;
        return (t, -o.Lr * (1 - mu) / (1 - muProduct), -o.Lr * muNext / (1 - productNext));
    }

    /// <summary>The update of one parameter, op by op (TorchSharp's and PyTorch's order).</summary>
    void Update(Parameter p, Tensor g, NAdamOptions o)
    {
        var state = State(p);
        var m = state.Zeros("exp_avg");
        var v = state.Zeros("exp_avg_sq");
        var (t, gradStep, momentStep) = Schedule(p, o);
        if (o.Maximize) g = g.neg();
        if (o.WeightDecay != 0)
        {
            if (o.DecoupledWeightDecay) p.mul_(1 - o.Lr * o.WeightDecay);
            else g = g.add(p, alpha: o.WeightDecay);
        }
        m.mul_(o.Beta1).add_(g, alpha: 1 - o.Beta1);
        v.mul_(o.Beta2).addcmul_(g, g, value: 1 - o.Beta2);
        var denom = v.div(1 - Math.Pow(o.Beta2, t)).sqrt_().add_(o.Eps);
        p.addcdiv_(g, denom, value: gradStep);
        p.addcdiv_(m, denom, value: momentStep);
    }

    /// <summary>One SIMD sweep over p, g, m, v (CPU).</summary>
    void UpdateFused(Parameter p, NAdamOptions o)
    {
        var access = NativeTensor.GradData(p, out var g);
        if (access == NativeTensor.Grad.None) return;
        if (access == NativeTensor.Grad.NotDense)
        {
            using var grad = p.grad!;
            using var dense = grad.to(p.dtype).contiguous();
            Update(p, dense, o);
            return;
        }
        var state = State(p);
        var m = state.Zeros("exp_avg");
        var v = state.Zeros("exp_avg_sq");
        var (t, gradStep, momentStep) = Schedule(p, o);
        long n = p.numel();
        if (n == 0) return;
        bool decoupled = o.DecoupledWeightDecay && o.WeightDecay != 0;
        var args = new Kernels.NAdamKernel.Args
        {
            P = NativeTensor.Data(p), G = g, ExpAvg = NativeTensor.Data(m), ExpAvgSq = NativeTensor.Data(v),
            Beta1 = o.Beta1, Beta2 = o.Beta2, Eps = o.Eps, BiasCorrection2 = 1 - Math.Pow(o.Beta2, t),
            GradStep = gradStep, MomentStep = momentStep,
            WeightDecay = decoupled ? 0 : o.WeightDecay, DecayFactor = decoupled ? 1 - o.Lr * o.WeightDecay : 1,
            Maximize = o.Maximize,
        };
        Kernels.NAdamKernel.Step(p.dtype, args, n);
        GC.KeepAlive(p);
        GC.KeepAlive(m);
        GC.KeepAlive(v);
    }
}
