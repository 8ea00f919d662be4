namespace Engine.Optim;

public sealed class SgdClassicMomentumOptions : OptimizerOptions
{
    /// <summary>ρ: the friction on the velocity (0.9 or 0.99; 0.5 early in training).</summary>
    public override double? Momentum { get => Rho; set => Rho = value ?? 0; }
    internal double Rho;
    /// <summary>Nesterov's look-ahead, in the seed's form θ ← θ − ρ·v_old + (1 + ρ)·v.</summary>
    public bool Nesterov { get; set; }

    public override void Validate()
    {
        base.Validate();
        CheckNonNegative(Rho, "momentum");
        if (Nesterov && Rho <= 0) throw new ArgumentException("Nesterov momentum requires a momentum > 0");
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
/// <see cref="Sgd"/> with momentum (the equivalence) over 100 steps in float64.
/// </summary>
public sealed class SgdClassicMomentum : Optimizer
{
    public SgdClassicMomentum(IEnumerable<Tensor> parameters, double lr = 1e-3, double momentum = 0.9,
        double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, momentum, weightDecay, nesterov, maximize) { }

    public SgdClassicMomentum(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double momentum = 0.9,
        double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base(groups, new SgdClassicMomentumOptions
        {
            LearningRate = lr, Rho = momentum, WeightDecay = weightDecay, Nesterov = nesterov, Maximize = maximize,
        }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (SgdClassicMomentumOptions)group.Options;
        foreach (var p in group.Parameters) UpdateReadable(p, o);
    }

    void UpdateReadable(Tensor p, SgdClassicMomentumOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
        if (o.Maximize) g = -g;
        if (o.WeightDecay != 0) g = g.Add(p, alpha: o.WeightDecay);
        var state = State(p);
        state.Step++;
        var v = state.Zeros("velocity", p);
        if (o.Nesterov)
        {
            // θ ← θ − ρ·v_old + (1 + ρ)·v_new
            p.Add_(v, alpha: -o.Rho);
            v.Mul_(o.Rho).Add_(g, alpha: -o.LearningRate);
            p.Add_(v, alpha: 1 + o.Rho);
        }
        else
        {
            v.Mul_(o.Rho).Add_(g, alpha: -o.LearningRate);
            p.Add_(v);
        }
    }
}
