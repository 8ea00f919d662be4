using Engine.Interop;

namespace Engine.Optim;

public sealed class LionOptions : OptimizerOptions
{
    /// <summary>β₁: how much of the momentum goes into this step's direction.</summary>
    public double Beta1 { get; set; } = 0.9;
    /// <summary>β₂: decay of the momentum kept for later steps.</summary>
    public double Beta2 { get; set; } = 0.99;

    public override double? Momentum { get => Beta1; set => Beta1 = value ?? Beta1; }

    public override void Validate()
    {
        base.Validate();
        CheckBeta(Beta1, "beta1");
        CheckBeta(Beta2, "beta2");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("beta1", Beta1), ("beta2", Beta2)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "beta1": Beta1 = value; break;
            case "beta2": Beta2 = value; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// Lion, EvoLved Sign Momentum (Chen et al., 2023, "Symbolic Discovery of Optimization
/// Algorithms", Program 1): every coordinate moves by exactly η (the sign of an interpolation of
/// momentum and gradient), so η is usually 3–10× smaller than AdamW's and λ 3–10× larger.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize)
/// c ← β₁·m + (1 − β₁)·g                 update direction, before the sign
/// θ ← θ − η·(sign(c) + λ·θ)             decoupled weight decay λ
/// m ← β₂·m + (1 − β₂)·g                 momentum (exp_avg), starts at 0
/// </code>
/// Checked against the paper's update written in float64 in the test; the fused CPU kernel and
/// the multi-tensor path are held equal to the readable one.
/// </summary>
public sealed class Lion : Optimizer
{
    public Lion(IEnumerable<Tensor> parameters, double lr = 1e-4, double beta1 = 0.9, double beta2 = 0.99,
        double weightDecay = 0, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, weightDecay, maximize) { }

    public Lion(IEnumerable<ParamGroupSpec> groups, double lr = 1e-4, double beta1 = 0.9, double beta2 = 0.99,
        double weightDecay = 0, bool maximize = false)
        : base(groups, new LionOptions { LearningRate = lr, Beta1 = beta1, Beta2 = beta2, WeightDecay = weightDecay, Maximize = maximize }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (LionOptions)group.Options;
        switch (Choose(group, hasFused: true, hasForeach: true))
        {
            case Implementation.Fused: UpdateFused(group, o); break;
            case Implementation.Foreach: UpdateForeach(group, o); break;
            default:
                foreach (var p in group.Parameters) UpdateReadable(p, o);
                break;
        }
    }

    /// <summary>The paper's update for one parameter, op by op.</summary>
    void UpdateReadable(Tensor p, LionOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
        if (o.Maximize) g = -g;
        var state = State(p);
        var m = state.Zeros("exp_avg", p);
        state.Step++;

        var c = m.Mul(o.Beta1).Add_(g, alpha: 1 - o.Beta1);
        if (o.WeightDecay != 0) p.Mul_(1 - o.LearningRate * o.WeightDecay);
        p.Add_(c.Sign_(), alpha: -o.LearningRate);
        m.Mul_(o.Beta2).Add_(g, alpha: 1 - o.Beta2);
    }

    /// <summary>One SIMD sweep per parameter over p, g, m (CPU).</summary>
    unsafe void UpdateFused(ParamGroup group, LionOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = GradForKernel(p, out var g);
            if (access == GradAccess.None) continue;
            if (access == GradAccess.NotDense) { UpdateReadable(p, o); continue; }
            var state = State(p);
            var m = state.Zeros("exp_avg", p);
            state.Step++;
            long n = p.NumEl;
            if (n == 0) continue;
            var args = new Kernels.LionKernel.Args
            {
                P = p.DataPointer, G = g, M = m.DataPointer, Lr = o.LearningRate, Beta1 = o.Beta1, Beta2 = o.Beta2,
                DecayFactor = 1 - o.LearningRate * o.WeightDecay, Decay = o.WeightDecay != 0, Maximize = o.Maximize,
            };
            Kernels.LionKernel.Step(p.DType, args, n);
            GC.KeepAlive(p);
        }
    }

    /// <summary>libtorch 1.13 has no _foreach_sign_ (2.1 added it): without it the sign is taken
    /// per tensor, one kernel each, and every other op stays multi-tensor.</summary>
    static readonly Lazy<bool> s_hasForeachSign = new(() => Op.Exists("aten::_foreach_sign_"));
    static readonly Op s_foreachSign_ = new("aten::_foreach_sign_");
    static readonly Op s_foreachMul = new("aten::_foreach_mul", "Scalar");
    static readonly Op s_sign_ = new("aten::sign_");

    /// <summary>The whole group in a few _foreach_* kernels (CUDA).</summary>
    void UpdateForeach(ParamGroup group, LionOptions o)
    {
        var lists = Lists(group);
        lists.Collect(group.Parameters);
        try
        {
            if (lists.Count == 0) return;
            var m = lists.Buffer(0);
            for (int i = 0; i < lists.Count; i++)
            {
                var p = lists.Tensors[i];
                var state = State(p);
                m[i] = state.Zeros("exp_avg", p).Handle;
                state.Step++;
            }
            var grads = lists.Gradients(o.Maximize);
            // c = β₁m + (1 − β₁)g, then its sign, in Scratch
            s_foreachMul.CallRawList(lists.Scratch, lists.B(0), o.Beta1);
            var c = Arg.RawTensors(lists.Scratch, lists.Count);
            try
            {
                Foreach.AddList_.CallInPlace(c, grads, 1 - o.Beta1);
                if (s_hasForeachSign.Value) s_foreachSign_.CallInPlace(c);
                else
                    for (int i = 0; i < lists.Count; i++)
                    {
                        using var ci = new Tensor(Native.eng_tensor_retain(lists.Scratch[i])).DetachFromDisposeScope();
                        s_sign_.CallInPlace(ci);
                    }
                if (o.WeightDecay != 0) Foreach.MulScalar_.CallInPlace(lists.P, 1 - o.LearningRate * o.WeightDecay);
                Foreach.AddList_.CallInPlace(lists.P, c, -o.LearningRate);
            }
            finally
            {
                lists.Free(lists.Scratch);
            }
            Foreach.MulScalar_.CallInPlace(lists.B(0), o.Beta2);
            Foreach.AddList_.CallInPlace(lists.B(0), grads, 1 - o.Beta2);
        }
        finally
        {
            lists.Release();
        }
    }
}
