using Engine.Interop;

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
/// Mirrors PyTorch 1.13's _single_tensor_adamax; checked against Python PyTorch's trajectories.
/// </summary>
public sealed class Adamax : Optimizer
{
    public Adamax(IEnumerable<Tensor> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, maximize) { }

    public Adamax(IEnumerable<ParamGroupSpec> groups, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool maximize = false)
        : base(groups, new AdamaxOptions
        {
            LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Maximize = maximize,
        }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (AdamaxOptions)group.Options;
        if (Choose(group, hasFused: true, hasForeach: false) == Implementation.Fused) UpdateFused(group, o);
        else
            foreach (var p in group.Parameters) UpdateReadable(p, o);
    }

    /// <summary>The parameter's state, created on its first step, with the step count advanced.</summary>
    (Tensor ExpAvg, Tensor ExpInf, long Step) Buffers(Tensor p)
    {
        var state = State(p);
        var m = state.Zeros("exp_avg", p);
        var u = state.Zeros("exp_inf", p);
        return (m, u, ++state.Step);
    }

    /// <summary>The update for one parameter, op by op.</summary>
    void UpdateReadable(Tensor p, AdamaxOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
        if (o.Maximize) g = -g;
        var (m, u, t) = Buffers(p);
        if (o.WeightDecay != 0) g = g.Add(p, alpha: o.WeightDecay);

        m.Mul_(o.Beta1).Add_(g, alpha: 1 - o.Beta1);
        u.Mul_(o.Beta2);
        u.Copy_(u.Maximum(g.Abs().Add_(o.Eps)));
        double biasCorrection = 1 - Math.Pow(o.Beta1, t);
        p.Addcdiv_(m, u, value: -o.LearningRate / biasCorrection);
    }

    /// <summary>One SIMD sweep per parameter over p, g, m and u (CPU).</summary>
    unsafe void UpdateFused(ParamGroup group, AdamaxOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = GradForKernel(p, out var g);
            if (access == GradAccess.None) continue;
            if (access == GradAccess.NotDense) { UpdateReadable(p, o); continue; }
            var (m, u, t) = Buffers(p);
            long n = p.NumEl;
            if (n == 0) continue;
            var args = new Kernels.AdamaxKernel.Args
            {
                P = p.DataPointer, G = g, ExpAvg = m.DataPointer, ExpInf = u.DataPointer,
                Beta1 = o.Beta1, Beta2 = o.Beta2, Eps = o.Eps, StepSize = o.LearningRate / (1 - Math.Pow(o.Beta1, t)),
                WeightDecay = o.WeightDecay, Maximize = o.Maximize,
            };
            Kernels.AdamaxKernel.Step(p.DType, args, n);
            GC.KeepAlive(p);
        }
    }
}
