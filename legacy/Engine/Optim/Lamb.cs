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
/// <see cref="ParamGroupSpec.WeightDecaySplit"/>. Checked against the paper's update written in
/// float64 in the test.
/// </summary>
public sealed class Lamb : Optimizer
{
    public Lamb(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-6, double weightDecay = 0, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, maximize) { }

    public Lamb(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-6, double weightDecay = 0, bool maximize = false)
        : base(groups, new LambOptions
        {
            LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, Maximize = maximize,
        }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (LambOptions)group.Options;
        foreach (var p in group.Parameters) UpdateReadable(p, o);
    }

    void UpdateReadable(Tensor p, LambOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
        if (o.Maximize) g = -g;
        var state = State(p);
        var m = state.Zeros("exp_avg", p);
        var v = state.Zeros("exp_avg_sq", p);
        long t = ++state.Step;

        m.Mul_(o.Beta1).Add_(g, alpha: 1 - o.Beta1);
        v.Mul_(o.Beta2).Addcmul_(g, g, value: 1 - o.Beta2);
        double biasCorrection1 = 1 - Math.Pow(o.Beta1, t);
        double biasCorrection2 = 1 - Math.Pow(o.Beta2, t);
        var r = m.Div(biasCorrection1).Div_(v.Div(biasCorrection2).Sqrt_().Add_(o.Eps));
        if (o.WeightDecay != 0) r.Add_(p, alpha: o.WeightDecay);

        // Norms stay on the device; the trust ratio is one 0-d tensor, no host sync.
        var weightNorm = p.Norm();
        var updateNorm = r.Norm();
        var trust = weightNorm.Div(updateNorm).Where(weightNorm.Gt(0).Mul_(updateNorm.Gt(0)), Torch.OnesLike(weightNorm));
        p.Sub_(r.Mul_(trust), alpha: o.LearningRate);
    }
}
