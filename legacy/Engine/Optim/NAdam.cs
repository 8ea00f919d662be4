using Engine.Interop;

namespace Engine.Optim;

public sealed class NAdamOptions : MomentOptions
{
    /// <summary>ψ: how fast the momentum schedule μₜ = β₁(1 − 0.5·0.96^(tψ)) approaches β₁.</summary>
    public double MomentumDecay { get; set; } = 4e-3;

    public override void Validate()
    {
        base.Validate();
        CheckNonNegative(MomentumDecay, "momentum_decay");
    }

    public override IEnumerable<(string Name, double Value)> Values() => base.Values().Append(("momentum_decay", MomentumDecay));

    public override void SetValue(string name, double value)
    {
        if (name == "momentum_decay") MomentumDecay = value;
        else base.SetValue(name, value);
    }
}

/// <summary>
/// NAdam (Dozat, 2016), torch.optim.NAdam: Adam with Nesterov momentum, that is Adam whose step
/// looks ahead along the next momentum, with a warming-up momentum schedule μₜ.
/// <code>
/// g ← ∇f(θ)  (−∇ if maximize);  g ← g + λθ              (weight decay)
/// μₜ ← β₁(1 − ½·0.96^(tψ)),  μₜ₊₁ ← β₁(1 − ½·0.96^((t+1)ψ))
/// Πμ ← Πμ·μₜ                                              mu_product (a float32 scalar, as PyTorch)
/// m ← β₁·m + (1 − β₁)·g                                   exp_avg
/// v ← β₂·v + (1 − β₂)·g²                                  exp_avg_sq
/// d ← √(v / (1 − β₂ᵗ)) + ε
/// θ ← θ − η(1 − μₜ)/(1 − Πμ) · g/d − η·μₜ₊₁/(1 − Πμ·μₜ·μₜ₊₁) · m/d
/// </code>
/// Mirrors PyTorch 1.13's _single_tensor_nadam, including its quirk that the look-ahead divides
/// by 1 − Πμ·μₜ·μₜ₊₁ (μₜ counted twice; PyTorch 2.0 dropped the extra μₜ, pytorch/pytorch#92699),
/// so results match PyTorch 1.13's trajectories. PyTorch 1.13's NAdam has no maximize;
/// here it negates the gradient first, as PyTorch 2 does. Checked against Python PyTorch's
/// trajectories.
/// </summary>
public sealed class NAdam : Optimizer
{
    public NAdam(IEnumerable<Tensor> parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, beta1, beta2, eps, weightDecay, momentumDecay, maximize) { }

    public NAdam(IEnumerable<ParamGroupSpec> groups, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, double momentumDecay = 4e-3, bool maximize = false)
        : base(groups, new NAdamOptions
        {
            LearningRate = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay,
            MomentumDecay = momentumDecay, Maximize = maximize,
        }) { }

    protected override void Update(ParamGroup group)
    {
        var o = (NAdamOptions)group.Options;
        if (Choose(group, hasFused: true, hasForeach: false) == Implementation.Fused) UpdateFused(group, o);
        else
            foreach (var p in group.Parameters) UpdateReadable(p, o);
    }

    /// <summary>The parameter's state, created on its first step, with the step count advanced.</summary>
    (Tensor ExpAvg, Tensor ExpAvgSq, Tensor MuProduct, long Step) Buffers(Tensor p)
    {
        var state = State(p);
        var muProduct = state.GetOrCreate("mu_product", () => Torch.Scalar(1.0, ScalarType.Float32, Device.CPU));
        var m = state.Zeros("exp_avg", p);
        var v = state.Zeros("exp_avg_sq", p);
        return (m, v, muProduct, ++state.Step);
    }

    /// <summary>The momentum cache μₜ.</summary>
    static double Mu(NAdamOptions o, long t) => o.Beta1 * (1.0 - 0.5 * Math.Pow(0.96, t * o.MomentumDecay));

    /// <summary>The update for one parameter, op by op.</summary>
    void UpdateReadable(Tensor p, NAdamOptions o)
    {
        var g = p.Grad;
        if (g is null) return;
        if (o.Maximize) g = -g;
        var (m, v, muProduct, t) = Buffers(p);
        double biasCorrection2 = 1 - Math.Pow(o.Beta2, t);
        if (o.WeightDecay != 0) g = g.Add(p, alpha: o.WeightDecay);

        double mu = Mu(o, t), muNext = Mu(o, t + 1);
        muProduct.Mul_(mu);
        double product = muProduct.Item<double>();
        double productNext = muProduct.Mul(mu).Mul_(muNext).Item<double>();

        m.Mul_(o.Beta1).Add_(g, alpha: 1 - o.Beta1);
        v.Mul_(o.Beta2).Addcmul_(g, g, value: 1 - o.Beta2);
        var denom = v.Div(biasCorrection2).Sqrt().Add_(o.Eps);
        p.Addcdiv_(g, denom, value: -o.LearningRate * (1.0 - mu) / (1.0 - product));
        p.Addcdiv_(m, denom, value: -o.LearningRate * muNext / (1.0 - productNext));
    }

    /// <summary>One SIMD sweep per parameter over p, g, m and v (CPU).</summary>
    unsafe void UpdateFused(ParamGroup group, NAdamOptions o)
    {
        foreach (var p in group.Parameters)
        {
            var access = GradForKernel(p, out var g);
            if (access == GradAccess.None) continue;
            // The kernel path keeps mu_product as PyTorch does, a float32 scalar; anything else
            // (a hand-made state dict) takes the op-by-op path.
            bool odd = State(p).TryGet("mu_product", out var saved) && saved.DType != ScalarType.Float32;
            if (access == GradAccess.NotDense || odd) { UpdateReadable(p, o); continue; }
            var (m, v, muProduct, t) = Buffers(p);
            double mu = Mu(o, t), muNext = Mu(o, t + 1);
            // The float32 arithmetic of PyTorch's mu_product tensor.
            var mp = (float*)muProduct.DataPointer;
            *mp *= (float)mu;
            double product = *mp, productNext = *mp * (float)mu * (float)muNext;
            GC.KeepAlive(muProduct);
            long n = p.NumEl;
            if (n == 0) continue;
            var args = new Kernels.NAdamKernel.Args
            {
                P = p.DataPointer, G = g, ExpAvg = m.DataPointer, ExpAvgSq = v.DataPointer,
                Beta1 = o.Beta1, Beta2 = o.Beta2, Eps = o.Eps, BiasCorrection2 = 1 - Math.Pow(o.Beta2, t),
                GradStep = -o.LearningRate * (1.0 - mu) / (1.0 - product),
                MomentStep = -o.LearningRate * muNext / (1.0 - productNext),
                WeightDecay = o.WeightDecay, Maximize = o.Maximize,
            };
            Kernels.NAdamKernel.Step(p.DType, args, n);
            GC.KeepAlive(p);
        }
    }
}
