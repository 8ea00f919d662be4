namespace Engine.Optim;

public sealed class SgdOptions : OptimizerOptions
{
    /// <summary>ρ: the velocity's decay. 0 is plain (mini-batch / stochastic / full-batch) gradient descent.</summary>
    public override double? Momentum { get => MomentumValue; set => MomentumValue = value ?? 0; }
    internal double MomentumValue;
    /// <summary>τ: scales the gradient entering the velocity by (1 - τ).</summary>
    public double Dampening { get; set; }
    /// <summary>Nesterov's look-ahead: step along g + ρ·b instead of b.</summary>
    public bool Nesterov { get; set; }

    public override void Validate()
    {
        base.Validate();
        CheckNonNegative(MomentumValue, "momentum");
        CheckNonNegative(Dampening, "dampening");
        if (Nesterov && (MomentumValue <= 0 || Dampening != 0))
            throw new ArgumentException("Nesterov momentum requires a momentum > 0 and zero dampening");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("momentum", MomentumValue), ("dampening", Dampening), ("nesterov", Nesterov ? 1 : 0)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "momentum": MomentumValue = value; break;
            case "dampening": Dampening = value; break;
            case "nesterov": Nesterov = value != 0; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// Stochastic gradient descent with momentum (torch.optim.SGD). Full-batch, mini-batch and
/// stochastic gradient descent are this optimizer fed batches of different sizes.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λθ          (weight decay)
/// b ← g at the first step, else b ← ρ·b + (1 − τ)·g  (momentum ρ, dampening τ)
/// g ← g + ρ·b if Nesterov, else g ← b
/// θ ← θ − η·g
/// </code>
/// Checked against libtorch's torch::optim::SGD and Python PyTorch.
/// </summary>
public sealed class Sgd : Optimizer
{
    public Sgd(IEnumerable<Tensor> parameters, double lr = 1e-3, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, momentum, dampening, weightDecay, nesterov, maximize) { }

    public Sgd(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base(groups, new SgdOptions
        {
            LearningRate = lr, MomentumValue = momentum, Dampening = dampening, WeightDecay = weightDecay,
            Nesterov = nesterov, Maximize = maximize,
        }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (SgdOptions)group.Options;
        foreach (var p in group.Parameters)
        {
            var g = p.Grad;
            if (g is null) continue;
            if (o.Maximize) g = -g;
            if (o.WeightDecay != 0) g = g.Add(p, alpha: o.WeightDecay);
            if (o.MomentumValue != 0)
            {
                var state = State(p);
                if (!state.TryGet("momentum_buffer", out var b))
                    state["momentum_buffer"] = b = g.Clone();
                else
                    b.Mul_(o.MomentumValue).Add_(g, alpha: 1 - o.Dampening);
                g = o.Nesterov ? g.Add(b, alpha: o.MomentumValue) : b;
            }
            p.Add_(g, alpha: -o.LearningRate);
        }
    }
}
