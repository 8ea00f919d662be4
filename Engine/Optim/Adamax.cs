namespace Engine.Optim;

public sealed class AdamaxOptions : MomentOptions
{
}

/// <summary>
/// Adamax (Kingma and Ba, 2015, section 7), torch.optim.Adamax: Adam with the second moment's
/// L2 norm replaced by the infinity norm, an exponentially weighted maximum of |g| that needs no
/// bias correction.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λθ          (weight decay)
/// m ← β₁·m + (1 − β₁)·g                              exp_avg
/// u ← max(β₂·u, |g| + ε)                             exp_inf
/// θ ← θ − η / (1 − β₁ᵗ) · m / u
/// </code>
/// Mirrors PyTorch 1.13's _single_tensor_adamax; checked against TorchSharp's torch.optim.Adamax
/// (which has no maximize) and Python PyTorch's trajectories.
/// </summary>
public sealed class Adamax : Optimizer, torch.optim.IBetas
{
    public Adamax(IEnumerable<Parameter> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, maximize) { }

    public Adamax(IEnumerable<ParamGroupSpec> groups, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool maximize = false)
        : base(groups, new AdamaxOptions
        {
            Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Maximize = maximize,
        }) { }

    /// <summary>The first group's (β₁, β₂); setting it sets every group's.</summary>
    public (double, double) Betas
    {
        get => Groups[0].Betas;
        set { foreach (var g in Groups) g.Betas = value; }
    }

    protected override void Update(ParamGroup group)
    {
        var o = (AdamaxOptions)group.Options;
        switch (Choose(group, hasFused: true, hasFlat: true))
        {
            case Implementation.Fused: UpdateFused(group, o); break;
            case Implementation.Flat: UpdateFlat(group); break;
            default: UpdateEachParameter(group); break;
        }
    }

    void Update(Parameter p, Tensor g, AdamaxOptions o)
    {
        var state = State(p);
        var m = state.Zeros("exp_avg");
        var u = state.Zeros("exp_inf");
        Update(p, g, m, u, ++state.Step, o);
    }

    /// <summary>The update, op by op, of θ = <paramref name="p"/> (one parameter, or a flat buffer
    /// of many at the same step).</summary>
    static void Update(Tensor p, Tensor g, Tensor m, Tensor u, long t, AdamaxOptions o)
    {
        if (o.Maximize) g = g.neg();
        if (o.WeightDecay != 0) g = g.add(p, alpha: o.WeightDecay);
        m.mul_(o.Beta1).add_(g, alpha: 1 - o.Beta1);
        u.mul_(o.Beta2);
        u.copy_(torch.maximum(u, g.abs().add_(o.Eps)));
        double biasCorrection = 1 - Math.Pow(o.Beta1, t);
        p.addcdiv_(m, u, value: -o.Lr / biasCorrection);
    }

    protected override void UpdateParameter(Parameter p, Tensor g, ParamGroup group) => Update(p, g, (AdamaxOptions)group.Options);

    /// <summary>The flat path's update: the same formula, once over a whole (dtype, device) bucket.</summary>
    protected override void UpdateBucket(FlatGroup.Bucket b, long step, ParamGroup group)
    {
        var o = (AdamaxOptions)group.Options;
        Update(b.Params, b.Grads, b.State("exp_avg"), b.State("exp_inf"), step, o);
    }

    /// <summary>One SIMD sweep per parameter over p, g, m and u (CPU).</summary>
    void UpdateFused(ParamGroup group, AdamaxOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = NativeTensor.GradData(p, out var g);
            if (access == NativeTensor.Grad.None) continue;
            if (access == NativeTensor.Grad.NotDense)
            {
                using var grad = p.grad!;
                using var dense = grad.to(p.dtype).contiguous();
                Update(p, dense, o);
                continue;
            }
            var state = State(p);
            var m = state.Zeros("exp_avg");
            var u = state.Zeros("exp_inf");
            long t = ++state.Step;
            long n = p.numel();
            if (n == 0) continue;
            var args = new Kernels.AdamaxKernel.Args
            {
                P = NativeTensor.Data(p), G = g, ExpAvg = NativeTensor.Data(m), ExpInf = NativeTensor.Data(u),
                Beta1 = o.Beta1, Beta2 = o.Beta2, Eps = o.Eps, StepSize = o.Lr / (1 - Math.Pow(o.Beta1, t)),
                WeightDecay = o.WeightDecay, Maximize = o.Maximize,
            };
            Kernels.AdamaxKernel.Step(p.dtype, args, n);
            GC.KeepAlive(p);
        }
    }
}
