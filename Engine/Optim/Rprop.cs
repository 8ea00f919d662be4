namespace Engine.Optim;

public sealed class RpropOptions : OptimizerOptions
{
    /// <summary>η⁻: the step size's factor when the gradient changed sign (0 &lt; η⁻ &lt; 1).</summary>
    public double EtaMinus { get; set; } = 0.5;
    /// <summary>η⁺: the step size's factor when the gradient kept its sign (η⁺ &gt; 1).</summary>
    public double EtaPlus { get; set; } = 1.2;
    /// <summary>The smallest step size.</summary>
    public double MinStep { get; set; } = 1e-6;
    /// <summary>The largest step size.</summary>
    public double MaxStep { get; set; } = 50;

    public override void Validate()
    {
        base.Validate();
        if (!(EtaMinus > 0 && EtaMinus < 1)) throw new ArgumentOutOfRangeException("etaminus", EtaMinus, "Rprop: etaminus must be in (0, 1)");
        if (!(EtaPlus > 1) || double.IsInfinity(EtaPlus)) throw new ArgumentOutOfRangeException("etaplus", EtaPlus, "Rprop: etaplus must be finite and > 1");
        CheckNonNegative(MinStep, "min_step");
        if (!(MaxStep >= MinStep) || double.IsInfinity(MaxStep)) throw new ArgumentOutOfRangeException("max_step", MaxStep, $"Rprop: max_step must be finite and >= min_step ({MinStep})");
        if (WeightDecay != 0) throw new ArgumentOutOfRangeException("weight_decay", WeightDecay, "Rprop has no weight decay (as PyTorch's)");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("etaminus", EtaMinus), ("etaplus", EtaPlus), ("min_step", MinStep), ("max_step", MaxStep)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "etaminus": EtaMinus = value; break;
            case "etaplus": EtaPlus = value; break;
            case "min_step": MinStep = value; break;
            case "max_step": MaxStep = value; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// Resilient backpropagation (Riedmiller and Braun, 1993), torch.optim.Rprop: each weight has its
/// own step size, grown while its gradient keeps its sign and shrunk when the sign flips; only
/// the gradient's sign is used, never its size. Full-batch by nature.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize)
/// s ← sign(g · g_prev)
/// Δ ← clamp(Δ · (η⁺ if s &gt; 0, η⁻ if s &lt; 0, 1 if s = 0), min_step, max_step)   step_size (Δ₀ = η)
/// g ← 0 where s &lt; 0                                 (after a sign flip: no step, and no flip next time)
/// θ ← θ − sign(g) · Δ;   g_prev ← g                  prev
/// </code>
/// Mirrors PyTorch 1.13's _single_tensor_rprop (the same in 2.x); checked against Python PyTorch's
/// trajectories. TorchSharp 0.107's torch.optim.Rprop differs from PyTorch: see the parity tests.
/// </summary>
public sealed class Rprop : Optimizer
{
    public Rprop(IEnumerable<Parameter> parameters, double lr = 1e-2, double etaMinus = 0.5, double etaPlus = 1.2,
        double minStep = 1e-6, double maxStep = 50, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, etaMinus, etaPlus, minStep, maxStep, maximize) { }

    public Rprop(IEnumerable<ParamGroupSpec> groups, double lr = 1e-2, double etaMinus = 0.5, double etaPlus = 1.2,
        double minStep = 1e-6, double maxStep = 50, bool maximize = false)
        : base(groups, new RpropOptions { Lr = lr, EtaMinus = etaMinus, EtaPlus = etaPlus, MinStep = minStep, MaxStep = maxStep, Maximize = maximize }) { }

    protected override void Update(ParamGroup group)
    {
        if (Choose(group, hasFused: false, hasFlat: true) == Implementation.Flat) UpdateFlat(group);
        else UpdateEachParameter(group);
    }

    void Update(Parameter p, Tensor g, RpropOptions o)
    {
        var state = State(p);
        var prev = state.Zeros("prev");
        // Δ₀ = η, from the group's lr at the parameter's first step (as PyTorch).
        if (!state.TryGet("step_size", out var stepSize)) state["step_size"] = stepSize = full_like(p, o.Lr);
        state.Step++;
        Update(p, g, prev, stepSize, o);
    }

    /// <summary>The update, op by op, of θ = <paramref name="p"/> (one parameter, or a flat buffer
    /// of many).</summary>
    static void Update(Tensor p, Tensor g, Tensor prev, Tensor stepSize, RpropOptions o)
    {
        if (o.Maximize) g = g.neg();
        var sign = g.mul(prev).sign();
        sign.masked_fill_(sign.gt(0), o.EtaPlus);
        sign.masked_fill_(sign.lt(0), o.EtaMinus);
        sign.masked_fill_(sign.eq(0), 1);
        stepSize.mul_(sign).clamp_(o.MinStep, o.MaxStep);
        g = g.masked_fill(sign.eq(o.EtaMinus), 0);
        p.addcmul_(g.sign(), stepSize, value: -1);
        prev.copy_(g);
    }

    protected override void UpdateParameter(Parameter p, Tensor g, ParamGroup group) => Update(p, g, (RpropOptions)group.Options);

    /// <summary>The flat path's update: the same formula, once over a whole (dtype, device) bucket.</summary>
    protected override void UpdateBucket(FlatGroup.Bucket b, long step, ParamGroup group)
    {
        var o = (RpropOptions)group.Options;
        Update(b.Params, b.Grads, b.State("prev"), b.State("step_size"), o);
    }

    /// <summary>The first step makes the state per parameter.</summary>
    protected override bool NeedsPerParameterStep(FlatGroup.Bucket bucket, long step, ParamGroup group) => step == 0;
}
