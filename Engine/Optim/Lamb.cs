namespace Engine.Optim;

public sealed class LambOptions : MomentOptions
{
    public LambOptions() => Eps = 1e-6;
}

/// <summary>
/// LAMB, Layer-wise Adaptive Moments for Batch training (You et al., 2019, "Large Batch
/// Optimization for Deep Learning: Training BERT in 76 minutes", Algorithm 2): Adam's direction
/// plus decoupled weight decay, rescaled per parameter tensor ("layer") so that the step is a
/// fixed fraction η of the weights' norm — what keeps batches of 8K–64K stable.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize)
/// m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
/// m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)          bias correction (on, as Algorithm 2)
/// r ← m̂ / (√v̂ + ε) + λ·θ                         Adam direction + weight decay
/// trust ← ‖θ‖ / ‖r‖, or 1 when ‖θ‖ = 0 or ‖r‖ = 0   layer-wise trust ratio (φ = identity)
/// θ ← θ − η · trust · r
/// </code>
/// Biases and normalization weights usually get λ = 0 through
/// <see cref="ParamGroupSpec.WeightDecaySplit"/>. Per-tensor norms make the update not
/// elementwise, so there is one path. Checked against the paper's update written in float64 in the test.
/// </summary>
public sealed class Lamb : Optimizer, torch.optim.IBetas
{
    public Lamb(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-6, double weightDecay = 0, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, maximize) { }

    public Lamb(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-6, double weightDecay = 0, bool maximize = false)
        : base(groups, new LambOptions
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
        var o = (LambOptions)group.Options;
        foreach (var p in group.Parameters)
        {
            using var grad = p.grad;
            if (grad is null) continue;
            var g = o.Maximize ? grad.neg() : grad;
            var state = State(p);
            var m = state.Zeros("exp_avg");
            var v = state.Zeros("exp_avg_sq");
            long t = ++state.Step;

            m.mul_(o.Beta1).add_(g, alpha: 1 - o.Beta1);
            v.mul_(o.Beta2).addcmul_(g, g, value: 1 - o.Beta2);
            double biasCorrection1 = 1 - Math.Pow(o.Beta1, t);
            double biasCorrection2 = 1 - Math.Pow(o.Beta2, t);
            var r = m.div(biasCorrection1).div_(v.div(biasCorrection2).sqrt_().add_(o.Eps));
            if (o.WeightDecay != 0) r.add_(p, alpha: o.WeightDecay);

            // Norms stay on the device; the trust ratio is one 0-d tensor, no host sync.
            var weightNorm = p.norm();
            var updateNorm = r.norm();
            var trust = torch.where(weightNorm.gt(0).logical_and_(updateNorm.gt(0)), weightNorm.div(updateNorm), ones_like(weightNorm));
            p.add_(r.mul_(trust), alpha: -o.Lr);
        }
    }
}
