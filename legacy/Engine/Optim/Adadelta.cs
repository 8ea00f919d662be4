using Engine.Interop;

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
        if (!(Rho >= 0 && Rho <= 1)) throw new ArgumentOutOfRangeException("rho", Rho, "rho must be in [0, 1]");
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
/// Mirrors PyTorch 1.13's _single_tensor_adadelta; checked against Python PyTorch's trajectories.
/// </summary>
public sealed class Adadelta : Optimizer
{
    public Adadelta(IEnumerable<Tensor> parameters, double lr = 1.0, double rho = 0.9, double eps = 1e-6,
        double weightDecay = 0, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, rho, eps, weightDecay, maximize) { }

    public Adadelta(IEnumerable<ParamGroupSpec> groups, double lr = 1.0, double rho = 0.9, double eps = 1e-6,
        double weightDecay = 0, bool maximize = false)
        : base(groups, new AdadeltaOptions { LearningRate = lr, Rho = rho, Eps = eps, WeightDecay = weightDecay, Maximize = maximize }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (AdadeltaOptions)group.Options;
        if (Choose(group, hasFused: true, hasForeach: false) == Implementation.Fused) UpdateFused(group, o);
        else
            foreach (var p in group.Parameters) UpdateReadable(p, o);
    }

    /// <summary>The parameter's state, created on its first step, with the step count advanced.</summary>
    (Tensor SquareAvg, Tensor AccDelta) Buffers(Tensor p)
    {
        var state = State(p);
        var v = state.Zeros("square_avg", p);
        var u = state.Zeros("acc_delta", p);
        state.Step++;
        return (v, u);
    }

    /// <summary>The update for one parameter, op by op.</summary>
    void UpdateReadable(Tensor p, AdadeltaOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
        var (v, u) = Buffers(p);
        if (o.Maximize) g = -g;
        if (o.WeightDecay != 0) g = g.Add(p, alpha: o.WeightDecay);

        v.Mul_(o.Rho).Addcmul_(g, g, value: 1 - o.Rho);
        var std = v.Add(o.Eps).Sqrt_();
        var delta = u.Add(o.Eps).Sqrt_().Div_(std).Mul_(g);
        u.Mul_(o.Rho).Addcmul_(delta, delta, value: 1 - o.Rho);
        p.Add_(delta, alpha: -o.LearningRate);
    }

    /// <summary>One SIMD sweep per parameter over p, g and both running means (CPU).</summary>
    unsafe void UpdateFused(ParamGroup group, AdadeltaOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = GradForKernel(p, out var g);
            if (access == GradAccess.None) continue;
            if (access == GradAccess.NotDense) { UpdateReadable(p, o); continue; }
            var (v, u) = Buffers(p);
            long n = p.NumEl;
            if (n == 0) continue;
            var args = new Kernels.AdadeltaKernel.Args
            {
                P = p.DataPointer, G = g, SquareAvg = v.DataPointer, AccDelta = u.DataPointer,
                Lr = o.LearningRate, Rho = o.Rho, Eps = o.Eps, WeightDecay = o.WeightDecay, Maximize = o.Maximize,
            };
            Kernels.AdadeltaKernel.Step(p.DType, args, n);
            GC.KeepAlive(p);
        }
    }
}
