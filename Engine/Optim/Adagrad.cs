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
/// Mirrors PyTorch 1.13's _single_tensor_adagrad (dense gradients); checked against TorchSharp's
/// torch.optim.Adagrad (which has no maximize) and Python PyTorch's trajectories. The sum is made
/// on a parameter's first gradient rather than in the constructor, which changes nothing in the update.
/// </summary>
public sealed class Adagrad : Optimizer
{
    public Adagrad(IEnumerable<Parameter> parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize) { }

    public Adagrad(IEnumerable<ParamGroupSpec> groups, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : base(groups, new AdagradOptions
        {
            Lr = lr, LrDecay = lrDecay, WeightDecay = weightDecay,
            InitialAccumulatorValue = initialAccumulatorValue, Eps = eps, Maximize = maximize,
        }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (AdagradOptions)group.Options;
        switch (Choose(group, hasFused: true, hasFlat: true))
        {
            case Implementation.Fused: UpdateFused(group, o); break;
            case Implementation.Flat: UpdateFlat(group); break;
            default: UpdateEachParameter(group); break;
        }
    }

    /// <summary>The running sum of squared gradients, filled with initial_accumulator_value at first.</summary>
    Tensor Sum(Parameter p, AdagradOptions o)
    {
        var state = State(p);
        if (!state.TryGet("sum", out var sum)) state["sum"] = sum = full_like(p, o.InitialAccumulatorValue);
        return sum;
    }

    /// <summary>η̃ at step t (1-based).</summary>
    static double StepSize(AdagradOptions o, long t) => o.Lr / (1 + (t - 1) * o.LrDecay);

    void Update(Parameter p, Tensor g, AdagradOptions o)
    {
        var sum = Sum(p, o);
        Update(p, g, sum, ++State(p).Step, o);
    }

    /// <summary>The update, op by op, of θ = <paramref name="p"/> (one parameter, or a flat buffer
    /// of many at the same step).</summary>
    static void Update(Tensor p, Tensor g, Tensor sum, long t, AdagradOptions o)
    {
        if (o.Maximize) g = g.neg();
        if (o.WeightDecay != 0) g = g.add(p, alpha: o.WeightDecay);
        sum.addcmul_(g, g, value: 1);
        var std = sum.sqrt().add_(o.Eps);
        p.addcdiv_(g, std, value: -StepSize(o, t));
    }

    protected override void UpdateParameter(Parameter p, Tensor g, ParamGroup group) => Update(p, g, (AdagradOptions)group.Options);

    /// <summary>The flat path's update: the same formula, once over a whole (dtype, device) bucket.</summary>
    protected override void UpdateBucket(FlatGroup.Bucket b, long step, ParamGroup group)
    {
        var o = (AdagradOptions)group.Options;
        Update(b.Params, b.Grads, b.State("sum"), step, o);
    }

    /// <summary>The first step makes the state per parameter.</summary>
    protected override bool NeedsPerParameterStep(FlatGroup.Bucket bucket, long step, ParamGroup group) => step == 0;

    /// <summary>One SIMD sweep per parameter over p, g and the sum (CPU).</summary>
    void UpdateFused(ParamGroup group, AdagradOptions o)
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
            var sum = Sum(p, o);
            long t = ++State(p).Step;
            long n = p.numel();
            if (n == 0) continue;
            var args = new Kernels.AdagradKernel.Args
            {
                P = NativeTensor.Data(p), G = g, Sum = NativeTensor.Data(sum), StepSize = StepSize(o, t), Eps = o.Eps,
                WeightDecay = o.WeightDecay, Maximize = o.Maximize,
            };
            Kernels.AdagradKernel.Step(p.dtype, args, n);
            GC.KeepAlive(p);
        }
    }
}
