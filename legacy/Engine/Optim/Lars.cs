namespace Engine.Optim;

public sealed class LarsOptions : OptimizerOptions
{
    /// <summary>m: momentum of the velocity.</summary>
    public override double? Momentum { get => MomentumValue; set => MomentumValue = value ?? 0; }
    internal double MomentumValue = 0.9;
    /// <summary>η: the trust coefficient, how far one step may move a layer relative to its norm.</summary>
    public double TrustCoefficient { get; set; } = 1e-3;
    /// <summary>Parameters flagged <see cref="Engine.Nn.Parameter.NoWeightDecay"/> (biases,
    /// normalization weights) take a plain momentum-SGD step: no trust ratio, no weight decay.</summary>
    public bool SkipNoWeightDecay { get; set; } = true;

    public override void Validate()
    {
        base.Validate();
        CheckNonNegative(MomentumValue, "momentum");
        if (!double.IsFinite(TrustCoefficient) || TrustCoefficient <= 0)
            throw new ArgumentOutOfRangeException(nameof(TrustCoefficient), TrustCoefficient, "trust coefficient must be finite and > 0");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("momentum", MomentumValue), ("trust_coefficient", TrustCoefficient), ("skip_no_weight_decay", SkipNoWeightDecay ? 1 : 0)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "momentum": MomentumValue = value; break;
            case "trust_coefficient": TrustCoefficient = value; break;
            case "skip_no_weight_decay": SkipNoWeightDecay = value != 0; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// LARS, Layer-wise Adaptive Rate Scaling (You, Gitman and Ginsburg, 2017, "Large Batch Training
/// of Convolutional Networks", Algorithm 1): momentum SGD where each parameter tensor ("layer")
/// gets its own local learning rate from the ratio of its weights' norm to its gradient's norm.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize)
/// λ_local ← η · ‖θ‖ / (‖g‖ + β·‖θ‖), or 1 when ‖θ‖ = 0 or ‖g‖ = 0   (trust coefficient η, weight decay β)
/// v ← m·v + γ · λ_local · (g + β·θ)                                   (global lr γ, momentum m; v starts at 0)
/// θ ← θ − v
/// </code>
/// The global learning rate sits inside the velocity, as in the paper (so a schedule's new γ only
/// scales new gradients). Common practice since SimCLR/BYOL, and the default here
/// (<see cref="LarsOptions.SkipNoWeightDecay"/>): biases and normalization parameters, the tensors
/// flagged <see cref="Engine.Nn.Parameter.NoWeightDecay"/>, are excluded from both the adaptation
/// and the weight decay (λ_local = 1, β = 0) — their norms are tiny or meaningless for a ratio.
/// Checked against the paper's update written in float64 in the test.
/// </summary>
public sealed class Lars : Optimizer
{
    public Lars(IEnumerable<Tensor> parameters, double lr = 1.0, double momentum = 0.9, double weightDecay = 0,
        double trustCoefficient = 1e-3, bool skipNoWeightDecay = true, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, momentum, weightDecay, trustCoefficient, skipNoWeightDecay, maximize) { }

    public Lars(IEnumerable<ParamGroupSpec> groups, double lr = 1.0, double momentum = 0.9, double weightDecay = 0,
        double trustCoefficient = 1e-3, bool skipNoWeightDecay = true, bool maximize = false)
        : base(groups, new LarsOptions
        {
            LearningRate = lr, MomentumValue = momentum, WeightDecay = weightDecay, TrustCoefficient = trustCoefficient,
            SkipNoWeightDecay = skipNoWeightDecay, Maximize = maximize,
        }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (LarsOptions)group.Options;
        foreach (var p in group.Parameters) UpdateReadable(p, o);
    }

    void UpdateReadable(Tensor p, LarsOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
        if (o.Maximize) g = -g;
        var state = State(p);
        var v = state.Zeros("momentum_buffer", p);
        state.Step++;

        Tensor step;
        if (o.SkipNoWeightDecay && p is Engine.Nn.Parameter { NoWeightDecay: true })
            step = g.Mul(o.LearningRate);
        else
        {
            // Norms stay on the device; λ_local is one 0-d tensor, no host sync.
            var weightNorm = p.Norm();
            var gradNorm = g.Norm();
            var local = weightNorm.Mul(o.TrustCoefficient).Div_(gradNorm.Add(weightNorm, alpha: o.WeightDecay));
            local = local.Where(weightNorm.Gt(0).Mul_(gradNorm.Gt(0)), Torch.OnesLike(local));
            step = o.WeightDecay != 0 ? g.Add(p, alpha: o.WeightDecay) : g.Clone();
            step.Mul_(local.Mul_(o.LearningRate));
        }
        v.Mul_(o.MomentumValue).Add_(step);
        p.Sub_(v);
    }
}
