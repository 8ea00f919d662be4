namespace Engine.Optim;

public sealed class AsgdOptions : OptimizerOptions
{
    /// <summary>λ: the decay term, θ ← θ·(1 − λη) each step, and the rate at which η decays.</summary>
    public double Lambd { get; set; } = 1e-4;
    /// <summary>α: the power of η's decay, η_t = η / (1 + λ·η·t)^α.</summary>
    public double Alpha { get; set; } = 0.75;
    /// <summary>t₀: the step after which averaging starts (before it the average is the last θ).</summary>
    public double T0 { get; set; } = 1e6;

    public override void Validate()
    {
        base.Validate();
        CheckNonNegative(Lambd, "lambd");
        CheckNonNegative(Alpha, "alpha");
        CheckNonNegative(T0, "t0");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("lambd", Lambd), ("alpha", Alpha), ("t0", T0)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "lambd": Lambd = value; break;
            case "alpha": Alpha = value; break;
            case "t0": T0 = value; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// Averaged SGD (Polyak and Juditsky, 1992), torch.optim.ASGD: SGD with a decaying step size
/// that also keeps the running average θ̄ of the iterates from step t₀ on (state "ax"; the
/// average is what one evaluates, the model keeps training on θ).
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λ_wd·θ       (weight decay)
/// θ ← θ·(1 − λ·η_t) − η_t·g                          (η₁ = η)
/// θ̄ ← θ̄ + μ_t·(θ − θ̄)                                 (μ_t = 1: θ̄ ← θ)
/// η_{t+1} = η / (1 + λ·η·t)^α,   μ_{t+1} = 1 / max(1, t − t₀)
/// </code>
/// Follows PyTorch (1.13 and 2.x alike): η_t and μ_t are state tensors of the default dtype
/// (float32 unless changed), so their values are rounded to float32 before use even when θ is
/// float64. TorchSharp's torch.optim.ASGD keeps them as doubles; with the default dtype set to
/// float64 the two agree. Checked against Python PyTorch's trajectories and TorchSharp's ASGD.
/// </summary>
public sealed class Asgd : Optimizer
{
    public Asgd(IEnumerable<Parameter> parameters, double lr = 1e-2, double lambd = 1e-4, double alpha = 0.75,
        double t0 = 1e6, double weightDecay = 0, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, lambd, alpha, t0, weightDecay, maximize) { }

    public Asgd(IEnumerable<ParamGroupSpec> groups, double lr = 1e-2, double lambd = 1e-4, double alpha = 0.75,
        double t0 = 1e6, double weightDecay = 0, bool maximize = false)
        : base(groups, new AsgdOptions { Lr = lr, Lambd = lambd, Alpha = alpha, T0 = t0, WeightDecay = weightDecay, Maximize = maximize }) { }

    protected override void Update(ParamGroup group)
    {
        if (Choose(group, hasFused: false, hasFlat: true) == Implementation.Flat) UpdateFlat(group);
        else UpdateEachParameter(group);
    }

    /// <summary>η and μ: scalars of the default dtype, made on the parameter's first step.</summary>
    static (Tensor Eta, Tensor Mu) Scalars(ParamState state, AsgdOptions o)
    {
        if (!state.TryGet("eta", out var eta)) state["eta"] = eta = tensor(o.Lr, get_default_dtype());
        if (!state.TryGet("mu", out var mu)) state["mu"] = mu = tensor(1.0, get_default_dtype());
        return (eta, mu);
    }

    static double NextEta(AsgdOptions o, long t) => o.Lr / Math.Pow(1 + o.Lambd * o.Lr * t, o.Alpha);
    static double NextMu(AsgdOptions o, long t) => 1 / Math.Max(1, t - o.T0);

    void Update(Parameter p, Tensor g, AsgdOptions o)
    {
        var state = State(p);
        var (eta, mu) = Scalars(state, o);
        var ax = state.Zeros("ax");
        long t = ++state.Step;
        Update(p, g, ax, eta.ToDouble(), mu.ToDouble(), o);
        eta.fill_(NextEta(o, t));
        mu.fill_(NextMu(o, t));
    }

    /// <summary>The update, op by op, of θ = <paramref name="p"/> (one parameter, or a flat buffer
    /// of many at the same step).</summary>
    static void Update(Tensor p, Tensor g, Tensor ax, double eta, double mu, AsgdOptions o)
    {
        if (o.Maximize) g = g.neg();
        if (o.WeightDecay != 0) g = g.add(p, alpha: o.WeightDecay);
        p.mul_(1 - o.Lambd * eta);
        p.add_(g, alpha: -eta);
        if (mu != 1) ax.add_(p.sub(ax).mul(mu));
        else ax.copy_(p);
    }

    protected override void UpdateParameter(Parameter p, Tensor g, ParamGroup group) => Update(p, g, (AsgdOptions)group.Options);

    /// <summary>The flat path's update: the same formula, once over a whole (dtype, device) bucket.</summary>
    protected override void UpdateBucket(FlatGroup.Bucket b, long step, ParamGroup group)
    {
        var o = (AsgdOptions)group.Options;
        var (eta, mu) = Scalars(State(b.Members[0]), o);
        Update(b.Params, b.Grads, b.State("ax"), eta.ToDouble(), mu.ToDouble(), o);
        double nextEta = NextEta(o, step), nextMu = NextMu(o, step);
        foreach (var p in b.Members)
        {
            var (e, m) = Scalars(State(p), o);
            e.fill_(nextEta);
            m.fill_(nextMu);
        }
    }

    /// <summary>The first step makes the state per parameter.</summary>
    protected override bool NeedsPerParameterStep(FlatGroup.Bucket bucket, long step, ParamGroup group) => step == 0;
}
