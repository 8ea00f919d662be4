namespace Engine.Optim;

public sealed class RmsPropOptions : OptimizerOptions
{
    /// <summary>α: the decay of the running mean of squared gradients (the seed's decay_rate).</summary>
    public double Alpha { get; set; } = 0.99;
    /// <summary>ε: added to √v, keeps the denominator away from zero.</summary>
    public double Eps { get; set; } = 1e-8;
    /// <summary>Centered RMSprop (Graves, 2013): divide by an estimate of the gradient's variance
    /// v − ḡ² instead of its raw second moment.</summary>
    public bool Centered { get; set; }

    /// <summary>μ: momentum of the normalized step; 0 is none.</summary>
    public override double? Momentum { get => MomentumValue; set => MomentumValue = value ?? 0; }
    internal double MomentumValue { get; set; }

    public override void Validate()
    {
        base.Validate();
        if (!(Alpha >= 0 && Alpha <= 1)) throw new ArgumentOutOfRangeException("alpha", Alpha, "RmsProp: alpha must be in [0, 1]");
        CheckNonNegative(Eps, "eps");
        CheckNonNegative(MomentumValue, "momentum");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("alpha", Alpha), ("eps", Eps), ("momentum", MomentumValue), ("centered", Centered ? 1 : 0)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "alpha": Alpha = value; break;
            case "eps": Eps = value; break;
            case "momentum": MomentumValue = value; break;
            case "centered": Centered = value != 0; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// RMSprop (Hinton, lecture 6e), torch.optim.RMSprop: each weight's step is divided by the root
/// of a running mean of its squared gradients, so steep directions slow down and flat ones
/// speed up. As PyTorch, ε is added after the square root.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λθ       (weight decay)
/// v ← α·v + (1 − α)·g²                           square_avg
/// ṽ ← v;  if centered: ḡ ← α·ḡ + (1 − α)·g,  ṽ ← v − ḡ²   grad_avg
/// if μ > 0: b ← μ·b + g / (√ṽ + ε),  θ ← θ − η·b     momentum_buffer
/// else:     θ ← θ − η·g / (√ṽ + ε)
/// </code>
/// Mirrors PyTorch 1.13's _single_tensor_rmsprop; checked against TorchSharp's
/// torch.optim.RMSProp in the same process and Python PyTorch's trajectories.
/// </summary>
public sealed class RmsProp : Optimizer, torch.optim.IMomentum
{
    public RmsProp(IEnumerable<Parameter> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, alpha, eps, weightDecay, momentum, centered, maximize) { }

    public RmsProp(IEnumerable<ParamGroupSpec> groups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base(groups, new RmsPropOptions
        {
            Lr = lr, Alpha = alpha, Eps = eps, WeightDecay = weightDecay, MomentumValue = momentum,
            Centered = centered, Maximize = maximize,
        }) { }

    /// <summary>The first group's μ; setting it sets every group's.</summary>
    public double Momentum
    {
        get => Groups[0].Momentum;
        set { foreach (var g in Groups) g.Momentum = value; }
    }

    protected override void Update(ParamGroup group)
    {
        var o = (RmsPropOptions)group.Options;
        switch (Choose(group, hasFused: true, hasFlat: true))
        {
            case Implementation.Fused: UpdateFused(group, o); break;
            case Implementation.Flat: UpdateFlat(group); break;
            default: UpdateEachParameter(group); break;
        }
    }

    /// <summary>One parameter, with the buffers PyTorch makes on its first step.</summary>
    void Update(Parameter p, Tensor g, RmsPropOptions o)
    {
        var state = State(p);
        state.Step++;
        Update(p, g, state.Zeros("square_avg"), o.Centered ? state.Zeros("grad_avg") : null,
            o.MomentumValue > 0 ? state.Zeros("momentum_buffer") : null, o);
    }

    /// <summary>The update, op by op, of θ = <paramref name="p"/> (one parameter, or a flat buffer
    /// of many).</summary>
    static void Update(Tensor p, Tensor g, Tensor v, Tensor? gAvg, Tensor? b, RmsPropOptions o)
    {
        if (o.Maximize) g = g.neg();
        if (o.WeightDecay != 0) g = g.add(p, alpha: o.WeightDecay);
        v.mul_(o.Alpha).addcmul_(g, g, value: 1 - o.Alpha);
        Tensor avg;
        if (gAvg is not null)
        {
            gAvg.mul_(o.Alpha).add_(g, alpha: 1 - o.Alpha);
            avg = v.addcmul(gAvg, gAvg, value: -1).sqrt_();
        }
        else avg = v.sqrt();
        avg.add_(o.Eps);
        if (b is not null)
        {
            b.mul_(o.MomentumValue).addcdiv_(g, avg);
            p.add_(b, alpha: -o.Lr);
        }
        else p.addcdiv_(g, avg, value: -o.Lr);
    }

    protected override void UpdateParameter(Parameter p, Tensor g, ParamGroup group) => Update(p, g, (RmsPropOptions)group.Options);

    /// <summary>The flat path's update: the same formula, once over a whole (dtype, device) bucket.</summary>
    protected override void UpdateBucket(FlatGroup.Bucket b, long step, ParamGroup group)
    {
        var o = (RmsPropOptions)group.Options;
        Update(b.Params, b.Grads, b.State("square_avg"), o.Centered ? b.State("grad_avg") : null,
            o.MomentumValue > 0 ? b.State("momentum_buffer") : null, o);
    }

    /// <summary>One SIMD sweep per parameter over p, g and the buffers (CPU).</summary>
    void UpdateFused(ParamGroup group, RmsPropOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = NativeTensor.GradData(p, out var g);
            if (access == NativeTensor.Grad.None) continue;
            if (access == NativeTensor.Grad.NotDense)
            {
                using var grad = p.grad!;
                using var dense = grad.to(p.dtype).contiguous();
                Update(p, dense, o);
                continue;
            }
            var state = State(p);
            state.Step++;
            var v = state.Zeros("square_avg");
            var gAvg = o.Centered ? state.Zeros("grad_avg") : null;
            var buffer = o.MomentumValue > 0 ? state.Zeros("momentum_buffer") : null;
            long n = p.numel();
            if (n == 0) continue;
            var args = new Kernels.RmsPropKernel.Args
            {
                P = NativeTensor.Data(p), G = g, SquareAvg = NativeTensor.Data(v),
                GradAvg = gAvg is null ? 0 : NativeTensor.Data(gAvg), Buffer = buffer is null ? 0 : NativeTensor.Data(buffer),
                Lr = o.Lr, Alpha = o.Alpha, Eps = o.Eps, WeightDecay = o.WeightDecay, Momentum = o.MomentumValue,
                Maximize = o.Maximize,
            };
            Kernels.RmsPropKernel.Step(p.dtype, args, n);
            GC.KeepAlive(p);
        }
    }
}
