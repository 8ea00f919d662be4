using Engine.Interop;

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
    internal double MomentumValue;

    public override void Validate()
    {
        base.Validate();
        if (!(Alpha >= 0 && Alpha <= 1)) throw new ArgumentOutOfRangeException("alpha", Alpha, "alpha must be in [0, 1]");
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
/// Mirrors PyTorch 1.13's _single_tensor_rmsprop; checked against libtorch's
/// torch::optim::RMSprop and Python PyTorch's trajectories.
/// </summary>
public sealed class RmsProp : Optimizer
{
    public RmsProp(IEnumerable<Tensor> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, alpha, eps, weightDecay, momentum, centered, maximize) { }

    public RmsProp(IEnumerable<ParamGroupSpec> groups, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : base(groups, new RmsPropOptions
        {
            LearningRate = lr, Alpha = alpha, Eps = eps, WeightDecay = weightDecay, MomentumValue = momentum,
            Centered = centered, Maximize = maximize,
        }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (RmsPropOptions)group.Options;
        switch (Choose(group, hasFused: true, hasForeach: true))
        {
            case Implementation.Fused: UpdateFused(group, o); break;
            case Implementation.Foreach: UpdateForeach(group, o); break;
            default:
                foreach (var p in group.Parameters) UpdateReadable(p, o);
                break;
        }
    }

    /// <summary>The buffers PyTorch creates on a parameter's first step (created then), with the
    /// step count advanced.</summary>
    (Tensor SquareAvg, Tensor? GradAvg, Tensor? Buffer) Buffers(Tensor p, RmsPropOptions o)
    {
        var state = State(p);
        var squareAvg = state.Zeros("square_avg", p);
        var gradAvg = o.Centered ? state.Zeros("grad_avg", p) : null;
        var buffer = o.MomentumValue > 0 ? state.Zeros("momentum_buffer", p) : null;
        state.Step++;
        return (squareAvg, gradAvg, buffer);
    }

    /// <summary>The update for one parameter, op by op.</summary>
    void UpdateReadable(Tensor p, RmsPropOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
        if (o.Maximize) g = -g;
        var (v, gAvg, b) = Buffers(p, o);
        if (o.WeightDecay != 0) g = g.Add(p, alpha: o.WeightDecay);

        v.Mul_(o.Alpha).Addcmul_(g, g, value: 1 - o.Alpha);
        Tensor avg;
        if (gAvg is not null)
        {
            gAvg.Mul_(o.Alpha).Add_(g, alpha: 1 - o.Alpha);
            avg = v.Addcmul(gAvg, gAvg, value: -1).Sqrt_();
        }
        else avg = v.Sqrt();
        avg.Add_(o.Eps);

        if (b is not null)
        {
            b.Mul_(o.MomentumValue).Addcdiv_(g, avg);
            p.Add_(b, alpha: -o.LearningRate);
        }
        else p.Addcdiv_(g, avg, value: -o.LearningRate);
    }

    /// <summary>One SIMD sweep per parameter over p, g and the buffers (CPU).</summary>
    unsafe void UpdateFused(ParamGroup group, RmsPropOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = GradForKernel(p, out var g);
            if (access == GradAccess.None) continue;
            if (access == GradAccess.NotDense) { UpdateReadable(p, o); continue; }
            var (v, gAvg, b) = Buffers(p, o);
            long n = p.NumEl;
            if (n == 0) continue;
            var args = new Kernels.RmsPropKernel.Args
            {
                P = p.DataPointer, G = g, SquareAvg = v.DataPointer, GradAvg = gAvg?.DataPointer ?? 0,
                Buffer = b?.DataPointer ?? 0, Lr = o.LearningRate, Alpha = o.Alpha, Eps = o.Eps,
                WeightDecay = o.WeightDecay, Momentum = o.MomentumValue, Maximize = o.Maximize,
            };
            Kernels.RmsPropKernel.Step(p.DType, args, n);
            GC.KeepAlive(p);
        }
    }

    /// <summary>The whole group in a handful of _foreach_* kernels (CUDA): PyTorch's multi-tensor RMSprop.</summary>
    void UpdateForeach(ParamGroup group, RmsPropOptions o)
    {
        var lists = Lists(group);
        lists.Collect(group.Parameters);
        nint[]? avg = null;
        try
        {
            if (lists.Count == 0) return;
            var squareAvgs = lists.Buffer(0);
            var gradAvgs = o.Centered ? lists.Buffer(1) : null;
            var buffers = o.MomentumValue > 0 ? lists.Buffer(2) : null;
            for (int i = 0; i < lists.Count; i++)
            {
                var (v, gAvg, b) = Buffers(lists.Tensors[i], o);
                squareAvgs[i] = v.Handle;
                if (gradAvgs is not null) gradAvgs[i] = gAvg!.Handle;
                if (buffers is not null) buffers[i] = b!.Handle;
            }

            var grads = lists.Gradients(o.Maximize, o.WeightDecay);
            Foreach.MulScalar_.CallInPlace(lists.B(0), o.Alpha);
            Foreach.Addcmul_.CallInPlace(lists.B(0), grads, grads, 1 - o.Alpha);
            avg = lists.Scratch;
            if (o.Centered)
            {
                Foreach.MulScalar_.CallInPlace(lists.B(1), o.Alpha);
                Foreach.AddList_.CallInPlace(lists.B(1), grads, 1 - o.Alpha);
                Foreach.Addcmul.CallRawList(avg, lists.B(0), lists.B(1), lists.B(1), -1.0);
                Foreach.Sqrt_.CallInPlace(Arg.RawTensors(avg, lists.Count));
            }
            else Foreach.Sqrt.CallRawList(avg, lists.B(0));
            var denom = Arg.RawTensors(avg, lists.Count);
            Foreach.AddScalar_.CallInPlace(denom, o.Eps);

            if (o.MomentumValue > 0)
            {
                Foreach.MulScalar_.CallInPlace(lists.B(2), o.MomentumValue);
                Foreach.Addcdiv_.CallInPlace(lists.B(2), grads, denom, 1.0);
                Foreach.AddList_.CallInPlace(lists.P, lists.B(2), -o.LearningRate);
            }
            else Foreach.Addcdiv_.CallInPlace(lists.P, grads, denom, -o.LearningRate);
        }
        finally
        {
            if (avg is not null) lists.Free(avg);
            lists.Release();
        }
    }
}
