namespace Engine.Optim;

public sealed class AdadeltaOptions : OptimizerOptions
{
    /// <summary>ρ: the decay of both running means (squared gradients and squared updates).</summary>
    public double Rho { get; set; } = 0.9;
    /// <summary>ε: inside both square roots; it also sets the size of the first steps.</summary>
    public double Eps { get; set; } = 1e-6;

    public override void Validate()
    {
        base.Validate();
        if (!(Rho >= 0 && Rho <= 1)) throw new ArgumentOutOfRangeException("rho", Rho, "Adadelta: rho must be in [0, 1]");
        CheckNonNegative(Eps, "eps");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("rho", Rho), ("eps", Eps)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "rho": Rho = value; break;
            case "eps": Eps = value; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// ADADELTA (Zeiler, 2012), torch.optim.Adadelta: RMSprop whose step is rescaled by the root
/// mean of the past updates, so the update has the units of θ and needs no learning rate (η = 1
/// by default; η scales the step as in PyTorch).
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λθ          (weight decay)
/// v ← ρ·v + (1 − ρ)·g²                               square_avg
/// Δ ← √(u + ε) / √(v + ε) · g
/// u ← ρ·u + (1 − ρ)·Δ²                               acc_delta
/// θ ← θ − η·Δ
/// </code>
/// Mirrors PyTorch 1.13's _single_tensor_adadelta; checked against TorchSharp's
/// torch.optim.Adadelta in the same process and Python PyTorch's trajectories.
/// </summary>
public sealed class Adadelta : Optimizer
{
    public Adadelta(IEnumerable<Parameter> parameters, double lr = 1.0, double rho = 0.9, double eps = 1e-6,
        double weightDecay = 0, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, rho, eps, weightDecay, maximize) { }

    public Adadelta(IEnumerable<ParamGroupSpec> groups, double lr = 1.0, double rho = 0.9, double eps = 1e-6,
        double weightDecay = 0, bool maximize = false)
        : base(groups, new AdadeltaOptions { Lr = lr, Rho = rho, Eps = eps, WeightDecay = weightDecay, Maximize = maximize }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (AdadeltaOptions)group.Options;
        switch (Choose(group, hasFused: true, hasFlat: true))
        {
            case Implementation.Fused: UpdateFused(group, o); break;
            case Implementation.Flat: UpdateFlat(group); break;
            default: UpdateEachParameter(group); break;
        }
    }

    void Update(Parameter p, Tensor g, AdadeltaOptions o)
    {
        var state = State(p);
        state.Step++;
        Update(p, g, state.Zeros("square_avg"), state.Zeros("acc_delta"), o);
    }

    /// <summary>The update, op by op, of θ = <paramref name="p"/> (one parameter, or a flat buffer
    /// of many).</summary>
    static void Update(Tensor p, Tensor g, Tensor v, Tensor u, AdadeltaOptions o)
    {
        if (o.Maximize) g = g.neg();
        if (o.WeightDecay != 0) g = g.add(p, alpha: o.WeightDecay);
        v.mul_(o.Rho).addcmul_(g, g, value: 1 - o.Rho);
        var std = v.add(o.Eps).sqrt_();
        var delta = u.add(o.Eps).sqrt_().div_(std).mul_(g);
        u.mul_(o.Rho).addcmul_(delta, delta, value: 1 - o.Rho);
        p.add_(delta, alpha: -o.Lr);
    }

    protected override void UpdateParameter(Parameter p, Tensor g, ParamGroup group) => Update(p, g, (AdadeltaOptions)group.Options);

    /// <summary>The flat path's update: the same formula, once over a whole (dtype, device) bucket.</summary>
    protected override void UpdateBucket(FlatGroup.Bucket b, long step, ParamGroup group)
    {
        var o = (AdadeltaOptions)group.Options;
        Update(b.Params, b.Grads, b.State("square_avg"), b.State("acc_delta"), o);
    }

    /// <summary>One SIMD sweep per parameter over p, g and both running means (CPU).</summary>
    void UpdateFused(ParamGroup group, AdadeltaOptions o)
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
            var u = state.Zeros("acc_delta");
            long n = p.numel();
            if (n == 0) continue;
            var args = new Kernels.AdadeltaKernel.Args
            {
                P = NativeTensor.Data(p), G = g, SquareAvg = NativeTensor.Data(v), AccDelta = NativeTensor.Data(u),
                Lr = o.Lr, Rho = o.Rho, Eps = o.Eps, WeightDecay = o.WeightDecay, Maximize = o.Maximize,
            };
            Kernels.AdadeltaKernel.Step(p.dtype, args, n);
            GC.KeepAlive(p);
        }
    }
}
