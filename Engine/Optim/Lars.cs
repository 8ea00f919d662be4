namespace Engine.Optim;

public sealed class LarsOptions : OptimizerOptions
{
    /// <summary>m: momentum of the velocity.</summary>
    public double MomentumValue { get; set; } = 0.9;
    /// <summary>η: the trust coefficient, how far one step may move a layer relative to its norm.</summary>
    public double TrustCoefficient { get; set; } = 1e-3;
    /// <summary>1-d parameters (biases, normalization scales) take a plain momentum-SGD step: no
    /// trust ratio, no weight decay (SimCLR/BYOL practice; their norms mean little as a scale).</summary>
    public bool SkipVectors { get; set; } = true;

    public override double? Momentum { get => MomentumValue; set => MomentumValue = value ?? 0; }

    public override void Validate()
    {
        base.Validate();
        CheckNonNegative(MomentumValue, "momentum");
        if (!double.IsFinite(TrustCoefficient) || TrustCoefficient <= 0)
            throw new ArgumentOutOfRangeException("trust_coefficient", TrustCoefficient, "Lars: trust_coefficient must be finite and > 0");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("momentum", MomentumValue), ("trust_coefficient", TrustCoefficient), ("skip_vectors", SkipVectors ? 1 : 0)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "momentum": MomentumValue = value; break;
            case "trust_coefficient": TrustCoefficient = value; break;
            case "skip_vectors": SkipVectors = value != 0; break;
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
/// scales new gradients). By default (<see cref="LarsOptions.SkipVectors"/>) 1-d tensors — biases
/// and normalization parameters — are excluded from both the adaptation and the weight decay
/// (λ_local = 1, β = 0), as SimCLR and BYOL do. Per-tensor norms make the update not elementwise,
/// so there is one path. Checked against the paper's update written in float64 in the test.
/// </summary>
public sealed class Lars : Optimizer, torch.optim.IMomentum
{
    public Lars(IEnumerable<Parameter> parameters, double lr = 1.0, double momentum = 0.9, double weightDecay = 0,
        double trustCoefficient = 1e-3, bool skipVectors = true, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, momentum, weightDecay, trustCoefficient, skipVectors, maximize) { }

    public Lars(IEnumerable<ParamGroupSpec> groups, double lr = 1.0, double momentum = 0.9, double weightDecay = 0,
        double trustCoefficient = 1e-3, bool skipVectors = true, bool maximize = false)
        : base(groups, new LarsOptions
        {
            Lr = lr, MomentumValue = momentum, WeightDecay = weightDecay, TrustCoefficient = trustCoefficient,
            SkipVectors = skipVectors, Maximize = maximize,
        }) { }

    /// <summary>The first group's momentum; setting it sets every group's.</summary>
    public double Momentum
    {
        get => Groups[0].Momentum;
        set { foreach (var g in Groups) g.Momentum = value; }
    }

    protected override void Update(ParamGroup group)
    {
        var o = (LarsOptions)group.Options;
        foreach (var p in group.Parameters)
        {
            using var grad = p.grad;
            if (grad is null) continue;
            var g = o.Maximize ? grad.neg() : grad;
            var state = State(p);
            var v = state.Zeros("momentum_buffer");
            state.Step++;

            Tensor step;
            if (o.SkipVectors && p.dim() <= 1)
                step = g.mul(o.Lr);
            else
            {
                // Norms stay on the device; λ_local is one 0-d tensor, no host sync.
                var weightNorm = p.norm();
                var gradNorm = g.norm();
                var local = weightNorm.mul(o.TrustCoefficient).div_(gradNorm.add(weightNorm, alpha: o.WeightDecay));
                local = torch.where(weightNorm.gt(0).logical_and_(gradNorm.gt(0)), local, ones_like(local));
                step = o.WeightDecay != 0 ? g.add(p, alpha: o.WeightDecay) : g.clone();
                step.mul_(local.mul_(o.Lr));
            }
            v.mul_(o.MomentumValue).add_(step);
            p.sub_(v);
        }
    }
}
