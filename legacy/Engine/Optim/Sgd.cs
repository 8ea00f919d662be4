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
        switch (Choose(group, hasFused: true, hasForeach: true))
        {
            case Implementation.Fused: UpdateFused(group, o); break;
            case Implementation.Foreach: UpdateForeach(group, o); break;
            default:
                foreach (var p in group.Parameters) UpdateReadable(p, o);
                break;
        }
    }

    /// <summary>The update for one parameter, op by op.</summary>
    void UpdateReadable(Tensor p, SgdOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
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

    /// <summary>One SIMD sweep per parameter over p, g and b (CPU).</summary>
    unsafe void UpdateFused(ParamGroup group, SgdOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = GradForKernel(p, out var g);
            if (access == GradAccess.None) continue;
            if (access == GradAccess.NotDense) { UpdateReadable(p, o); continue; }
            long n = p.NumEl;
            nint b = 0;
            bool first = false;
            if (o.MomentumValue != 0)
            {
                var state = State(p);
                if (!state.TryGet("momentum_buffer", out var buffer))
                {
                    state["momentum_buffer"] = buffer = Torch.EmptyLike(p);  // the kernel writes b = g into it
                    first = true;
                }
                b = buffer.DataPointer;
            }
            if (n == 0) continue;
            var args = new Kernels.SgdKernel.Args
            {
                P = p.DataPointer, G = g, B = b, Lr = o.LearningRate, WeightDecay = o.WeightDecay,
                Momentum = o.MomentumValue, Dampening = o.Dampening, Maximize = o.Maximize, Nesterov = o.Nesterov,
                FirstStep = first,
            };
            Kernels.SgdKernel.Step(p.DType, args, n);
            GC.KeepAlive(p);
        }
    }

    /// <summary>The whole group in a few _foreach_* kernels (CUDA): PyTorch's multi-tensor SGD.</summary>
    void UpdateForeach(ParamGroup group, SgdOptions o)
    {
        var lists = Lists(group);
        lists.Collect(group.Parameters);
        try
        {
            if (lists.Count == 0) return;
            var grads = lists.Gradients(o.Maximize, o.WeightDecay);
            var step = grads;
            bool ownStep = false;
            if (o.MomentumValue != 0)
            {
                var bufs = lists.Buffer(0);
                bool all = true;
                for (int i = 0; i < lists.Count; i++) all &= State(lists.Tensors[i]).TryGet("momentum_buffer", out _);
                if (all)
                {
                    for (int i = 0; i < lists.Count; i++) bufs[i] = State(lists.Tensors[i])["momentum_buffer"].Handle;
                    Foreach.MulScalar_.CallInPlace(lists.B(0), o.MomentumValue);
                    Foreach.AddList_.CallInPlace(lists.B(0), grads, 1 - o.Dampening);
                }
                else
                {
                    // First step (or a parameter that had no gradient before): per parameter.
                    var gradHandles = (nint[])grads.Ref!;
                    for (int i = 0; i < lists.Count; i++)
                    {
                        var state = State(lists.Tensors[i]);
                        using var g = new Tensor(Interop.Native.eng_tensor_retain(gradHandles[i])).DetachFromDisposeScope();
                        if (!state.TryGet("momentum_buffer", out var b)) state["momentum_buffer"] = b = g.Clone();
                        else b.Mul_(o.MomentumValue).Add_(g, alpha: 1 - o.Dampening);
                        bufs[i] = b.Handle;
                    }
                }
                if (o.Nesterov)
                {
                    Foreach.AddList.CallRawList(lists.Scratch, grads, lists.B(0), o.MomentumValue);
                    step = Arg.RawTensors(lists.Scratch, lists.Count);
                    ownStep = true;
                }
                else step = lists.B(0);
            }
            try { Foreach.AddList_.CallInPlace(lists.P, step, -o.LearningRate); }
            finally { if (ownStep) lists.Free(lists.Scratch); }
        }
        finally
        {
            lists.Release();
        }
    }
}
