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
/// Checked against TorchSharp's torch.optim.Adam in the same process and Python PyTorch's trajectories.
/// </summary>
public class Adam : Optimizer, torch.optim.IBetas
{
    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) { }

    public Adam(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(groups, new AdamOptions
        {
            Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay,
            Amsgrad = amsgrad, Maximize = maximize,
        }) { }

    protected Adam(IEnumerable<ParamGroupSpec> groups, AdamOptions defaults) : base(groups, defaults) { }

    /// <summary>The first group's (β₁, β₂); setting it sets every group's (as TorchSharp's Adam).</summary>
    public (double, double) Betas
    {
        get => Groups[0].Betas;
        set { foreach (var g in Groups) g.Betas = value; }
    }

    /// <summary>AdamW applies weight decay to θ directly instead of through the gradient.</summary>
    protected virtual bool DecoupledWeightDecay => false;

    protected override void Update(ParamGroup group)
    {
        var o = (AdamOptions)group.Options;
        switch (Choose(group, hasFused: true, hasFlat: true))
        {
            case Implementation.Fused: UpdateFused(group, o); break;
            case Implementation.Flat: UpdateFlat(group); break;
            default: UpdateEachParameter(group); break;
        }
    }

    /// <summary>One parameter, with the buffers PyTorch makes on its first step.</summary>
    void Update(Parameter p, Tensor g, AdamOptions o)
    {
        var state = State(p);
        state.Step++;
        Update(p, g, state.Zeros("exp_avg"), state.Zeros("exp_avg_sq"),
            o.Amsgrad ? state.Zeros("max_exp_avg_sq") : null, state.Step, o);
    }

    /// <summary>The paper's update, op by op, of θ = <paramref name="p"/> (one parameter, or a
    /// flat buffer of many at the same step).</summary>
    void Update(Tensor p, Tensor g, Tensor m, Tensor v, Tensor? vmax, long t, AdamOptions o)
    {
        if (o.Maximize) g = g.neg();
        if (o.WeightDecay != 0)
        {
            if (DecoupledWeightDecay) p.mul_(1 - o.Lr * o.WeightDecay);
            else g = g.add(p, alpha: o.WeightDecay);
        }
        m.mul_(o.Beta1).add_(g, alpha: 1 - o.Beta1);
        v.mul_(o.Beta2).addcmul_(g, g, value: 1 - o.Beta2);
        double biasCorrection1 = 1 - Math.Pow(o.Beta1, t);
        double biasCorrection2 = 1 - Math.Pow(o.Beta2, t);
        var second = v;
        if (vmax is not null)
        {
            vmax.copy_(torch.maximum(vmax, v));
            second = vmax;
        }
        var denom = second.sqrt().div_(Math.Sqrt(biasCorrection2)).add_(o.Eps);
        p.addcdiv_(m, denom, value: -o.Lr / biasCorrection1);
    }

    protected override void UpdateParameter(Parameter p, Tensor g, ParamGroup group) => Update(p, g, (AdamOptions)group.Options);

    /// <summary>The flat path's update: the same formula, once over a whole (dtype, device) bucket.</summary>
    protected override void UpdateBucket(FlatGroup.Bucket b, long step, ParamGroup group)
    {
        var o = (AdamOptions)group.Options;
        Update(b.Params, b.Grads, b.State("exp_avg"), b.State("exp_avg_sq"),
            o.Amsgrad ? b.State("max_exp_avg_sq") : null, step, o);
    }

    /// <summary>One SIMD sweep per parameter over p, g, m, v (CPU).</summary>
    void UpdateFused(ParamGroup group, AdamOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = NativeTensor.GradData(p, out var g);
            if (access == NativeTensor.Grad.None) continue;
            var state = State(p);
            var m = state.Zeros("exp_avg");
            var v = state.Zeros("exp_avg_sq");
            var vmax = o.Amsgrad ? state.Zeros("max_exp_avg_sq") : null;
            long t = ++state.Step;
            if (access == NativeTensor.Grad.NotDense)
            {
                using var grad = p.grad!;
                using var dense = grad.to(p.dtype).contiguous();
                Update(p, dense, m, v, vmax, t, o);
                continue;
            }
            long n = p.numel();
            if (n == 0) continue;
            bool decoupled = DecoupledWeightDecay && o.WeightDecay != 0;
            var args = new Kernels.AdamKernel.Args
            {
                P = NativeTensor.Data(p), G = g, M = NativeTensor.Data(m), V = NativeTensor.Data(v),
                VMax = vmax is null ? 0 : NativeTensor.Data(vmax),
                Beta1 = o.Beta1, Beta2 = o.Beta2, Eps = o.Eps,
                StepSize = o.Lr / (1 - Math.Pow(o.Beta1, t)),
                BiasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(o.Beta2, t)),
                WeightDecay = decoupled ? 0 : o.WeightDecay,
                DecayFactor = decoupled ? 1 - o.Lr * o.WeightDecay : 1,
                Maximize = o.Maximize, Coupled = !decoupled, Amsgrad = o.Amsgrad,
            };
            Kernels.AdamKernel.Step(p.dtype, args, n);
            GC.KeepAlive(p);
        }
    }
}

/// <summary>
/// AdamW (Loshchilov and Hutter, 2019), torch.optim.AdamW: Adam with decoupled weight decay,
/// θ ← θ·(1 − ηλ) before the Adam step. Default λ = 0.01 as PyTorch.
/// </summary>
public sealed class AdamW : Adam
{
    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, amsgrad, maximize) { }

    public AdamW(IEnumerable<ParamGroupSpec> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(groups, new AdamOptions
        {
            Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay,
            Amsgrad = amsgrad, Maximize = maximize,
        }) { }

    protected override bool DecoupledWeightDecay => true;
}
