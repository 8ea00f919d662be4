namespace Engine.Optim;

public sealed class SgdOptions : OptimizerOptions
{
    /// <summary>ρ: the velocity's decay. 0 is plain (mini-batch / stochastic / full-batch) gradient descent.</summary>
    public override double? Momentum { get => MomentumValue; set => MomentumValue = value ?? 0; }
    internal double MomentumValue { get; set; }
    /// <summary>τ: scales the gradient entering the velocity by (1 − τ).</summary>
    public double Dampening { get; set; }
    /// <summary>Nesterov's look-ahead: step along g + ρ·b instead of b.</summary>
    public bool Nesterov { get; set; }

    public override void Validate()
    {
        base.Validate();
        CheckNonNegative(MomentumValue, "momentum");
        CheckNonNegative(Dampening, "dampening");
        if (Nesterov && (MomentumValue <= 0 || Dampening != 0))
            throw new ArgumentException($"Sgd: nesterov needs momentum > 0 and dampening 0 (got momentum {MomentumValue}, dampening {Dampening})", "nesterov");
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
/// Stochastic gradient descent with momentum, torch.optim.SGD. Full-batch, mini-batch and
/// stochastic gradient descent are this optimizer fed batches of different sizes.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λθ          (weight decay)
/// b ← g at the first step, else b ← ρ·b + (1 − τ)·g  (momentum ρ, dampening τ)
/// g ← g + ρ·b if Nesterov, else g ← b
/// θ ← θ − η·g
/// </code>
/// Checked against TorchSharp's torch.optim.SGD in the same process and Python PyTorch's trajectories.
/// </summary>
public sealed class Sgd : Optimizer, torch.optim.IMomentum
{
    public Sgd(IEnumerable<Parameter> parameters, double lr = 1e-3, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, momentum, dampening, weightDecay, nesterov, maximize) { }

    public Sgd(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : base(groups, new SgdOptions
        {
            Lr = lr, MomentumValue = momentum, Dampening = dampening, WeightDecay = weightDecay,
            Nesterov = nesterov, Maximize = maximize,
        }) { }

    /// <summary>The first group's momentum; setting it sets every group's (as TorchSharp's SGD).</summary>
    public double Momentum
    {
        get => Groups[0].Momentum;
        set { foreach (var g in Groups) g.Momentum = value; }
    }

    protected override void Update(ParamGroup group)
    {
        var o = (SgdOptions)group.Options;
        switch (Choose(group, hasFused: true, hasFlat: true))
        {
            case Implementation.Fused: UpdateFused(group, o); break;
            case Implementation.Flat: UpdateFlat(group); break;
            default: UpdateEachParameter(group); break;
        }
    }

    /// <summary>One parameter: its momentum buffer is made on its first step (b = g then).</summary>
    void Update(Parameter p, Tensor g, SgdOptions o)
    {
        var state = State(p);
        state.Step++;
        bool first = !state.TryGet("momentum_buffer", out _);
        Update(p, g, o.MomentumValue != 0 ? state.Zeros("momentum_buffer") : null, first, o);
    }

    /// <summary>The update, op by op, of θ = <paramref name="p"/> (one parameter, or a flat buffer
    /// of many).</summary>
    static void Update(Tensor p, Tensor g, Tensor? b, bool first, SgdOptions o)
    {
        if (o.Maximize) g = g.neg();
        if (o.WeightDecay != 0) g = g.add(p, alpha: o.WeightDecay);
        if (b is not null)
        {
            if (first) b.copy_(g);
            else b.mul_(o.MomentumValue).add_(g, alpha: 1 - o.Dampening);
            g = o.Nesterov ? g.add(b, alpha: o.MomentumValue) : b;
        }
        p.add_(g, alpha: -o.Lr);
    }

    protected override void UpdateParameter(Parameter p, Tensor g, ParamGroup group) => Update(p, g, (SgdOptions)group.Options);

    /// <summary>The flat path's update: the same formula, once over a whole (dtype, device) bucket.</summary>
    protected override void UpdateBucket(FlatGroup.Bucket b, long step, ParamGroup group)
    {
        var o = (SgdOptions)group.Options;
        Update(b.Params, b.Grads, o.MomentumValue != 0 ? b.State("momentum_buffer") : null, first: false, o);
    }

    /// <summary>The first step makes the state per parameter.</summary>
    protected override bool NeedsPerParameterStep(FlatGroup.Bucket bucket, long step, ParamGroup group) => step == 0 || (((SgdOptions)group.Options).MomentumValue != 0 && !State(bucket.Members[0]).TryGet("momentum_buffer", out _));

    /// <summary>One SIMD sweep per parameter over p, g and b (CPU).</summary>
    void UpdateFused(ParamGroup group, SgdOptions o)
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
            bool first = false;
            nint buffer = 0;
            if (o.MomentumValue != 0)
            {
                first = !state.TryGet("momentum_buffer", out _);
                buffer = NativeTensor.Data(state.Zeros("momentum_buffer"));  // the kernel writes b = g into it at first
            }
            long n = p.numel();
            if (n == 0) continue;
            var args = new Kernels.SgdKernel.Args
            {
                P = NativeTensor.Data(p), G = g, B = buffer, Lr = o.Lr, WeightDecay = o.WeightDecay,
                Momentum = o.MomentumValue, Dampening = o.Dampening, Maximize = o.Maximize, Nesterov = o.Nesterov,
                FirstStep = first,
            };
            Kernels.SgdKernel.Step(p.dtype, args, n);
            GC.KeepAlive(p);
        }
    }
}
