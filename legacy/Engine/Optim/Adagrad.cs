using Engine.Interop;

namespace Engine.Optim;

public sealed class AdagradOptions : OptimizerOptions
{
    /// <summary>lr_decay: the step size at step t is η / (1 + (t − 1)·lr_decay).</summary>
    public double LrDecay { get; set; }
    /// <summary>The value the sum of squared gradients starts from.</summary>
    public double InitialAccumulatorValue { get; set; }
    /// <summary>ε: added to √sum, keeps the denominator away from zero.</summary>
    public double Eps { get; set; } = 1e-10;

    public override void Validate()
    {
        base.Validate();
        CheckNonNegative(LrDecay, "lr_decay");
        CheckNonNegative(InitialAccumulatorValue, "initial_accumulator_value");
        CheckNonNegative(Eps, "eps");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("lr_decay", LrDecay), ("initial_accumulator_value", InitialAccumulatorValue), ("eps", Eps)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "lr_decay": LrDecay = value; break;
            case "initial_accumulator_value": InitialAccumulatorValue = value; break;
            case "eps": Eps = value; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// AdaGrad (Duchi, Hazan and Singer, 2011), torch.optim.Adagrad: per-parameter learning rates,
/// each inversely proportional to the root of the sum of that weight's squared gradients, so the
/// steps along steep directions shrink and, as the sum only grows, every step tends to zero.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λθ        (weight decay)
/// η̃ ← η / (1 + (t − 1)·lr_decay)
/// s ← s + g²                                      sum (starts at initial_accumulator_value)
/// θ ← θ − η̃·g / (√s + ε)
/// </code>
/// Mirrors PyTorch 1.13's _single_tensor_adagrad (dense gradients); checked against libtorch's
/// torch::optim::Adagrad and Python PyTorch's trajectories. The state is created on a
/// parameter's first gradient rather than in the constructor, which changes nothing in the update.
/// </summary>
public sealed class Adagrad : Optimizer
{
    public Adagrad(IEnumerable<Tensor> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize) { }

    public Adagrad(IEnumerable<ParamGroupSpec> groups, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : base(groups, new AdagradOptions
        {
            LearningRate = lr, LrDecay = lrDecay, WeightDecay = weightDecay,
            InitialAccumulatorValue = initialAccumulatorValue, Eps = eps, Maximize = maximize,
        }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (AdagradOptions)group.Options;
        switch (Choose(group, hasFused: true, hasForeach: true))
        {
            case Implementation.Fused: UpdateFused(group, o); break;
            case Implementation.Foreach: UpdateForeach(group, o); break;
            default:
                foreach (var p in group.Parameters) UpdateReadable(p, o);
                break;
        }
    }

    /// <summary>The running sum of squared gradients, filled with initial_accumulator_value at first.</summary>
    Tensor Sum(Tensor p, AdagradOptions o)
    {
        var state = State(p);
        if (!state.TryGet("sum", out var sum)) state["sum"] = sum = Torch.FullLike(p, o.InitialAccumulatorValue);
        return sum;
    }

    /// <summary>η̃ at step t (1-based).</summary>
    static double StepSize(AdagradOptions o, long t) => o.LearningRate / (1 + (t - 1) * o.LrDecay);

    /// <summary>The update for one parameter, op by op.</summary>
    void UpdateReadable(Tensor p, AdagradOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
        var sum = Sum(p, o);
        long t = ++State(p).Step;
        if (o.Maximize) g = -g;
        if (o.WeightDecay != 0) g = g.Add(p, alpha: o.WeightDecay);

        sum.Addcmul_(g, g, value: 1);
        var std = sum.Sqrt().Add_(o.Eps);
        p.Addcdiv_(g, std, value: -StepSize(o, t));
    }

    /// <summary>One SIMD sweep per parameter over p, g and the sum (CPU).</summary>
    unsafe void UpdateFused(ParamGroup group, AdagradOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = GradForKernel(p, out var g);
            if (access == GradAccess.None) continue;
            if (access == GradAccess.NotDense) { UpdateReadable(p, o); continue; }
            var sum = Sum(p, o);
            long t = ++State(p).Step;
            long n = p.NumEl;
            if (n == 0) continue;
            var args = new Kernels.AdagradKernel.Args
            {
                P = p.DataPointer, G = g, Sum = sum.DataPointer, StepSize = StepSize(o, t), Eps = o.Eps,
                WeightDecay = o.WeightDecay, Maximize = o.Maximize,
            };
            Kernels.AdagradKernel.Step(p.DType, args, n);
            GC.KeepAlive(p);
        }
    }

    /// <summary>The whole group in a handful of _foreach_* kernels (CUDA): PyTorch's multi-tensor Adagrad.</summary>
    void UpdateForeach(ParamGroup group, AdagradOptions o)
    {
        var lists = Lists(group);
        lists.Collect(group.Parameters);
        nint[]? std = null;
        try
        {
            if (lists.Count == 0) return;
            // One step size for the whole list needs every parameter at the same step.
            long t = State(lists.Tensors[0]).Step;
            for (int i = 1; i < lists.Count; i++)
                if (State(lists.Tensors[i]).Step != t)
                {
                    for (int j = 0; j < lists.Count; j++) UpdateReadable(lists.Tensors[j], o);
                    return;
                }
            t++;
            var sums = lists.Buffer(0);
            for (int i = 0; i < lists.Count; i++)
            {
                var p = lists.Tensors[i];
                sums[i] = Sum(p, o).Handle;
                State(p).Step = t;
            }

            var grads = lists.Gradients(o.Maximize, o.WeightDecay);
            Foreach.Addcmul_.CallInPlace(lists.B(0), grads, grads, 1.0);
            Foreach.Sqrt.CallRawList(lists.Scratch, lists.B(0));
            std = lists.Scratch;
            var denom = Arg.RawTensors(std, lists.Count);
            Foreach.AddScalar_.CallInPlace(denom, o.Eps);
            Foreach.Addcdiv_.CallInPlace(lists.P, grads, denom, -StepSize(o, t));
        }
        finally
        {
            if (std is not null) lists.Free(std);
            lists.Release();
        }
    }
}
