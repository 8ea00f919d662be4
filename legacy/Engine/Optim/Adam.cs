namespace Engine.Optim;

public class AdamOptions : MomentOptions
{
    /// <summary>AMSGrad: divide by the running maximum of the second moment.</summary>
    public bool Amsgrad { get; set; }

    public override IEnumerable<(string Name, double Value)> Values() => base.Values().Append(("amsgrad", Amsgrad ? 1 : 0));

    public override void SetValue(string name, double value)
    {
        if (name == "amsgrad") Amsgrad = value != 0;
        else base.SetValue(name, value);
    }
}

/// <summary>
/// Adam (Kingma and Ba, 2015), torch.optim.Adam. Weight decay here is the coupled L2 penalty
/// added to the gradient; <see cref="AdamW"/> decouples it.
/// <code>
/// g ← ∇f(θ) (+ λθ)
/// m ← β₁·m + (1 − β₁)·g              first moment
/// v ← β₂·v + (1 − β₂)·g²             second moment (v̂max ← max(v̂max, v) with AMSGrad)
/// m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)   bias correction
/// θ ← θ − η · m̂ / (√v̂ + ε)
/// </code>
/// Checked against libtorch's torch::optim::Adam and Python PyTorch.
/// </summary>
public class Adam : Optimizer
{
    public Adam(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) { }

    public Adam(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(groups, new AdamOptions
        {
            LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay,
            Amsgrad = amsgrad, Maximize = maximize,
        }) { }

    protected Adam(IEnumerable<ParamGroupSpec> groups, AdamOptions defaults) : base(groups, defaults) { }

    /// <summary>AdamW applies weight decay to θ directly instead of through the gradient.</summary>
    protected virtual bool DecoupledWeightDecay => false;

    protected override void Update(ParamGroup group)
    {
        var o = (AdamOptions)group.Options;
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
    void UpdateReadable(Tensor p, AdamOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
        if (o.Maximize) g = -g;
        var state = State(p);
        var m = state.Zeros("exp_avg", p);
        var v = state.Zeros("exp_avg_sq", p);
        long t = ++state.Step;

        if (o.WeightDecay != 0)
        {
            if (DecoupledWeightDecay) p.Mul_(1 - o.LearningRate * o.WeightDecay);
            else g = g.Add(p, alpha: o.WeightDecay);
        }
        m.Mul_(o.Beta1).Add_(g, alpha: 1 - o.Beta1);
        v.Mul_(o.Beta2).Addcmul_(g, g, value: 1 - o.Beta2);
        double biasCorrection1 = 1 - Math.Pow(o.Beta1, t);
        double biasCorrection2 = 1 - Math.Pow(o.Beta2, t);
        var second = v;
        if (o.Amsgrad)
        {
            var vmax = state.Zeros("max_exp_avg_sq", p);
            vmax.Copy_(vmax.Maximum(v));
            second = vmax;
        }
        var denom = second.Sqrt().Div_(Math.Sqrt(biasCorrection2)).Add_(o.Eps);
        p.Addcdiv_(m, denom, value: -o.LearningRate / biasCorrection1);
    }

    /// <summary>One SIMD sweep per parameter over p, g, m, v (CPU).</summary>
    unsafe void UpdateFused(ParamGroup group, AdamOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = GradForKernel(p, out var g);
            if (access == GradAccess.None) continue;
            if (access == GradAccess.NotDense) { UpdateReadable(p, o); continue; }
            var state = State(p);
            var m = state.Zeros("exp_avg", p);
            var v = state.Zeros("exp_avg_sq", p);
            var vmax = o.Amsgrad ? state.Zeros("max_exp_avg_sq", p) : null;
            long t = ++state.Step;
            long n = p.NumEl;
            if (n == 0) continue;
            bool decoupled = DecoupledWeightDecay && o.WeightDecay != 0;
            var args = new Kernels.AdamKernel.Args
            {
                P = p.DataPointer, G = g, M = m.DataPointer, V = v.DataPointer, VMax = vmax?.DataPointer ?? 0,
                Beta1 = o.Beta1, Beta2 = o.Beta2, Eps = o.Eps,
                StepSize = o.LearningRate / (1 - Math.Pow(o.Beta1, t)),
                BiasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(o.Beta2, t)),
                WeightDecay = decoupled ? 0 : o.WeightDecay,
                DecayFactor = decoupled ? 1 - o.LearningRate * o.WeightDecay : 1,
                Maximize = o.Maximize, Coupled = !decoupled, Amsgrad = o.Amsgrad,
            };
            Kernels.AdamKernel.Step(p.DType, args, n);
            GC.KeepAlive(p);
        }
    }

    /// <summary>The whole group in a handful of _foreach_* kernels (CUDA): PyTorch's multi-tensor Adam.</summary>
    void UpdateForeach(ParamGroup group, AdamOptions o)
    {
        var lists = Lists(group);
        lists.Collect(group.Parameters);
        try
        {
            if (lists.Count == 0) return;
            // Every participating parameter must be at the same step to share the scalars.
            long t = -1;
            bool same = true;
            for (int i = 0; i < lists.Count; i++)
            {
                var state = State(lists.Tensors[i]);
                long s = state.Step;
                if (t < 0) t = s; else same &= s == t;
            }
            if (!same)
            {
                for (int i = 0; i < lists.Count; i++) UpdateReadable(lists.Tensors[i], o);
                return;
            }
            t++;
            var m = lists.Buffer(0);
            var v = lists.Buffer(1);
            var vmax = o.Amsgrad ? lists.Buffer(2) : null;
            for (int i = 0; i < lists.Count; i++)
            {
                var p = lists.Tensors[i];
                var state = State(p);
                state.Step = t;
                m[i] = state.Zeros("exp_avg", p).Handle;
                v[i] = state.Zeros("exp_avg_sq", p).Handle;
                if (vmax is not null) vmax[i] = state.Zeros("max_exp_avg_sq", p).Handle;
            }

            bool decoupled = DecoupledWeightDecay && o.WeightDecay != 0;
            if (decoupled) Foreach.MulScalar_.CallInPlace(lists.P, 1 - o.LearningRate * o.WeightDecay);
            var grads = lists.Gradients(o.Maximize, decoupled ? 0 : o.WeightDecay);
            Foreach.MulScalar_.CallInPlace(lists.B(0), o.Beta1);
            Foreach.AddList_.CallInPlace(lists.B(0), grads, 1 - o.Beta1);
            Foreach.MulScalar_.CallInPlace(lists.B(1), o.Beta2);
            Foreach.Addcmul_.CallInPlace(lists.B(1), grads, grads, 1 - o.Beta2);

            var second = lists.B(1);
            if (o.Amsgrad)
            {
                Foreach.Maximum_.CallInPlace(lists.B(2), lists.B(1));
                second = lists.B(2);
            }
            var denom = lists.Scratch;
            Foreach.Sqrt.CallRawList(denom, second);
            try
            {
                var d = Arg.RawTensors(denom, lists.Count);
                Foreach.DivScalar_.CallInPlace(d, Math.Sqrt(1 - Math.Pow(o.Beta2, t)));
                Foreach.AddScalar_.CallInPlace(d, o.Eps);
                Foreach.Addcdiv_.CallInPlace(lists.P, lists.B(0), d, -o.LearningRate / (1 - Math.Pow(o.Beta1, t)));
            }
            finally
            {
                lists.Free(denom);
            }
        }
        finally
        {
            lists.Release();
        }
    }
}

/// <summary>
/// AdamW (Loshchilov and Hutter, 2019), torch.optim.AdamW: Adam with decoupled weight decay,
/// θ ← θ·(1 − ηλ) before the Adam step. Default λ = 0.01 as PyTorch.
/// </summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<Tensor> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) { }

    public AdamW(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(groups, new AdamOptions
        {
            LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay,
            Amsgrad = amsgrad, Maximize = maximize,
        }) { }

    protected override bool DecoupledWeightDecay => true;
}
