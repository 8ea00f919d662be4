namespace Engine.Optim;

public sealed class LionOptions : OptimizerOptions
{
    /// <summary>β₁: how much of the momentum goes into this step's direction.</summary>
    public double Beta1 { get; set; } = 0.9;
    /// <summary>β₂: decay of the momentum kept for later steps.</summary>
    public double Beta2 { get; set; } = 0.99;

    public override (double, double)? Betas
    {
        get => (Beta1, Beta2);
        set { if (value is (double b1, double b2)) { Beta1 = b1; Beta2 = b2; } }
    }

    public override void Validate()
    {
        base.Validate();
        CheckBeta(Beta1, "beta1");
        CheckBeta(Beta2, "beta2");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("beta1", Beta1), ("beta2", Beta2)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "beta1": Beta1 = value; break;
            case "beta2": Beta2 = value; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// Lion, EvoLved Sign Momentum (Chen et al., 2023, "Symbolic Discovery of Optimization
/// Algorithms", Program 1): every coordinate moves by exactly η (the sign of an interpolation of
/// momentum and gradient), so η is usually 3–10× smaller than AdamW's and λ 3–10× larger.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize)
/// c ← β₁·m + (1 − β₁)·g                 update direction, before the sign
/// θ ← θ − η·(sign(c) + λ·θ)             decoupled weight decay λ
/// m ← β₂·m + (1 − β₂)·g                 momentum (exp_avg), starts at 0
/// </code>
/// Checked against the paper's update written in float64 in the test; the fused CPU kernel and
/// the flat-buffer path are held equal to the readable one.
/// </summary>
public sealed class Lion : Optimizer, torch.optim.IBetas
{
    public Lion(IEnumerable<Parameter> parameters, double lr = 1e-4, double beta1 = 0.9, double beta2 = 0.99,
        double weightDecay = 0, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, weightDecay, maximize) { }

    public Lion(IEnumerable<ParamGroupSpec> groups, double lr = 1e-4, double beta1 = 0.9, double beta2 = 0.99,
        double weightDecay = 0, bool maximize = false)
        : base(groups, new LionOptions { Lr = lr, Beta1 = beta1, Beta2 = beta2, WeightDecay = weightDecay, Maximize = maximize }) { }

    /// <summary>The first group's (β₁, β₂); setting it sets every group's.</summary>
    public (double, double) Betas
    {
        get => Groups[0].Betas;
        set { foreach (var g in Groups) g.Betas = value; }
    }

    protected override void Update(ParamGroup group)
    {
        var o = (LionOptions)group.Options;
        switch (Choose(group, hasFused: true, hasFlat: true))
        {
            case Implementation.Fused: UpdateFused(group, o); break;
            case Implementation.Flat: UpdateFlat(group); break;
            default: UpdateEachParameter(group); break;
        }
    }

    /// <summary>One parameter, its momentum made on its first step.</summary>
    void Update(Parameter p, Tensor g, LionOptions o)
    {
        var state = State(p);
        state.Step++;
        Update(p, g, state.Zeros("exp_avg"), o);
    }

    /// <summary>The paper's update of θ = <paramref name="p"/> (one parameter, or a flat buffer of many), op by op.</summary>
    static void Update(Tensor p, Tensor g, Tensor m, LionOptions o)
    {
        if (o.Maximize) g = g.neg();
        var c = m.mul(o.Beta1).add_(g, alpha: 1 - o.Beta1);
        if (o.WeightDecay != 0) p.mul_(1 - o.Lr * o.WeightDecay);
        p.add_(c.sign_(), alpha: -o.Lr);
        m.mul_(o.Beta2).add_(g, alpha: 1 - o.Beta2);
    }

    protected override void UpdateParameter(Parameter p, Tensor g, ParamGroup group) => Update(p, g, (LionOptions)group.Options);

    /// <summary>The flat path's update: the same formula, once over a whole (dtype, device) bucket.</summary>
    protected override void UpdateBucket(FlatGroup.Bucket b, long step, ParamGroup group)
    {
        var o = (LionOptions)group.Options;
        Update(b.Params, b.Grads, b.State("exp_avg"), o);
    }

    /// <summary>One SIMD sweep per parameter over p, g, m (CPU).</summary>
    void UpdateFused(ParamGroup group, LionOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = NativeTensor.GradData(p, out var g);
            if (access == NativeTensor.Grad.None) continue;
            var state = State(p);
            var m = state.Zeros("exp_avg");
            state.Step++;
            if (access == NativeTensor.Grad.NotDense)
            {
                using var grad = p.grad!;
                using var dense = grad.to(p.dtype).contiguous();
                Update(p, dense, m, o);
                continue;
            }
            long n = p.numel();
            if (n == 0) continue;
            var args = new Kernels.LionKernel.Args
            {
                P = NativeTensor.Data(p), G = g, M = NativeTensor.Data(m), Lr = o.Lr, Beta1 = o.Beta1, Beta2 = o.Beta2,
                DecayFactor = 1 - o.Lr * o.WeightDecay, Decay = o.WeightDecay != 0, Maximize = o.Maximize,
            };
            Kernels.LionKernel.Step(p.dtype, args, n);
            GC.KeepAlive(p);
            GC.KeepAlive(m);
        }
    }
}
