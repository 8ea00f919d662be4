namespace Engine.Optim;

public sealed class SgdClassicMomentumOptions : OptimizerOptions
{
    /// <summary>ρ: the friction on the velocity (0.9 or 0.99; 0.5 early in training).</summary>
    public override double? Momentum { get => Rho; set => Rho = value ?? 0; }
    internal double Rho { get; set; }
    /// <summary>Nesterov's look-ahead, in the seed's form θ ← θ − ρ·v_old + (1 + ρ)·v.</summary>
    public bool Nesterov { get; set; }

    public override void Validate()
    {
        base.Validate();
        CheckNonNegative(Rho, "momentum");
        if (Nesterov && Rho <= 0)
            throw new ArgumentException($"SgdClassicMomentum: nesterov needs momentum > 0 (got {Rho})", "nesterov");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("momentum", Rho), ("nesterov", Nesterov ? 1 : 0)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "momentum": Rho = value; break;
            case "nesterov": Nesterov = value != 0; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// SGD with momentum in the seed's "velocity" form (CS231n), where the learning rate enters the
/// velocity instead of scaling it:
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λθ   (weight decay)
/// v ← ρ·v − η·g                             (v starts at 0)
/// θ ← θ + v                                 (Nesterov: θ ← θ − ρ·v_old + (1 + ρ)·v)
/// </code>
/// With a constant η this gives exactly the trajectory of <see cref="Sgd"/> (b ← ρ·b + g,
/// θ ← θ − η·b; v = −η·b), Nesterov included — the seed's "they are equivalent and give the same
/// sequence of x". They part when η changes: here a new η only scales new gradients, while
/// <see cref="Sgd"/> rescales the whole accumulated velocity at once. Checked against
/// TorchSharp's torch.optim.SGD with momentum (the equivalence) over 150 steps in float64.
/// </summary>
public sealed class SgdClassicMomentum : Optimizer, torch.optim.IMomentum
{
    public SgdClassicMomentum(IEnumerable<Parameter> parameters, double lr = 1e-3, double momentum = 0.9,
        double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, momentum, weightDecay, nesterov, maximize) { }

    public SgdClassicMomentum(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double momentum = 0.9,
        double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base(groups, new SgdClassicMomentumOptions
        {
            Lr = lr, Rho = momentum, WeightDecay = weightDecay, Nesterov = nesterov, Maximize = maximize,
        }) { }

    /// <summary>The first group's ρ; setting it sets every group's.</summary>
    public double Momentum
    {
        get => Groups[0].Momentum;
        set { foreach (var g in Groups) g.Momentum = value; }
    }

    protected override void Update(ParamGroup group)
    {
        var o = (SgdClassicMomentumOptions)group.Options;
        foreach (var p in group.Parameters)
        {
            using var g = p.grad;
            if (g is null) continue;
            var state = State(p);
            state.Step++;
            Update(p, g, state.Zeros("velocity"), o);
        }
    }

    static void Update(Tensor p, Tensor g, Tensor v, SgdClassicMomentumOptions o)
    {
        if (o.Maximize) g = g.neg();
        if (o.WeightDecay != 0) g = g.add(p, alpha: o.WeightDecay);
        if (o.Nesterov)
        {
            // θ ← θ − ρ·v_old + (1 + ρ)·v_new
            p.add_(v, alpha: -o.Rho);
            v.mul_(o.Rho).add_(g, alpha: -o.Lr);
            p.add_(v, alpha: 1 + o.Rho);
        }
        else
        {
            v.mul_(o.Rho).add_(g, alpha: -o.Lr);
            p.add_(v);
        }
    }
}
