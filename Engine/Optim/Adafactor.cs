namespace Engine.Optim;

public sealed class AdafactorOptions : OptimizerOptions
{
    /// <summary>ε₁: added to the squared gradient (regularizes the second moment).</summary>
    public double Eps1 { get; set; } = 1e-30;
    /// <summary>ε₂: the smallest parameter scale in the relative step size.</summary>
    public double Eps2 { get; set; } = 1e-3;
    /// <summary>d: updates whose RMS exceeds d are scaled down to RMS d (update clipping).</summary>
    public double ClipThreshold { get; set; } = 1.0;
    /// <summary>c in the second-moment decay β̂₂ₜ = 1 − t^c (−0.8 in the paper).</summary>
    public double DecayRate { get; set; } = -0.8;
    /// <summary>β₁: decay of the optional first moment; 0 keeps none (the paper's default,
    /// which is where Adafactor's memory saving comes from).</summary>
    public double Beta1 { get; set; }
    /// <summary>Scale the step by the parameter's RMS (the "relative" in relative step size).</summary>
    public bool ScaleParameter { get; set; } = true;
    /// <summary>Use the time-dependent step ρₜ = min(10⁻², 1/√t) instead of the learning rate,
    /// which is then ignored (so are schedules that set it).</summary>
    public bool RelativeStep { get; set; } = true;
    /// <summary>Warm up the relative step: ρₜ = min(10⁻⁶·t, 1/√t).</summary>
    public bool WarmupInit { get; set; }

    public override double? Momentum { get => Beta1; set => Beta1 = value ?? 0; }

    public override void Validate()
    {
        base.Validate();
        CheckNonNegative(Eps1, "eps1");
        CheckNonNegative(Eps2, "eps2");
        if (!double.IsFinite(ClipThreshold) || ClipThreshold <= 0)
            throw new ArgumentOutOfRangeException("clip_threshold", ClipThreshold, "Adafactor: clip_threshold d must be finite and > 0");
        if (!double.IsFinite(DecayRate) || DecayRate >= 0)
            throw new ArgumentOutOfRangeException("decay_rate", DecayRate, "Adafactor: decay_rate c must be finite and < 0 (β̂₂ₜ = 1 − t^c)");
        CheckBeta(Beta1, "beta1");
        if (WarmupInit && !RelativeStep) throw new ArgumentException("Adafactor: warmup_init requires relative_step (no lr)", "warmup_init");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([
            ("eps1", Eps1), ("eps2", Eps2), ("clip_threshold", ClipThreshold), ("decay_rate", DecayRate), ("beta1", Beta1),
            ("scale_parameter", ScaleParameter ? 1 : 0), ("relative_step", RelativeStep ? 1 : 0), ("warmup_init", WarmupInit ? 1 : 0),
        ]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "eps1": Eps1 = value; break;
            case "eps2": Eps2 = value; break;
            case "clip_threshold": ClipThreshold = value; break;
            case "decay_rate": DecayRate = value; break;
            case "beta1": Beta1 = value; break;
            case "scale_parameter": ScaleParameter = value != 0; break;
            case "relative_step": RelativeStep = value != 0; break;
            case "warmup_init": WarmupInit = value != 0; break;
            default: base.SetValue(name, value); break;
        }
    }
}

/// <summary>
/// Adafactor (Shazeer and Stern, 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory
/// Cost", Algorithms 4 and 5), as HF transformers' Adafactor documents and runs it: the second
/// moment of an n×m matrix is kept as its row and column means R and C (n + m numbers instead of
/// n·m), the step is relative to the parameter's scale, and updates are clipped by their RMS.
/// <code>
/// t ← t + 1;  g ← ∇f(θ)  (−∇ if maximize)
/// ρₜ = min(10⁻², 1/√t)  (warmup: min(10⁻⁶·t, 1/√t); or lr without relative step)
/// αₜ = max(ε₂, RMS(θ)) · ρₜ  (or ρₜ without parameter scaling)
/// β̂₂ₜ = 1 − t^c  (c = −0.8)
/// ≥2-d θ (factored, over the last two dims):            1-d θ (Algorithm 5):
///   R ← β̂₂ₜ·R + (1 − β̂₂ₜ)·mean_cols(g² + ε₁)             V ← β̂₂ₜ·V + (1 − β̂₂ₜ)·(g² + ε₁)
///   C ← β̂₂ₜ·C + (1 − β̂₂ₜ)·mean_rows(g² + ε₁)
///   V̂ = R·Cᵀ / mean(R)   (= the paper's R·Cᵀ / 1ᵀR with sums)
/// U = g / √V̂
/// Û = U / max(1, RMS(U) / d)                                update clipping
/// Û ← αₜ·Û;  with β₁ > 0: m ← β₁·m + (1 − β₁)·Û, Û = m     optional first moment
/// θ ← θ − λ·αₜ·θ − Û                                        decoupled weight decay λ
/// </code>
/// State: exp_avg_sq_row / exp_avg_sq_col (factored) or exp_avg_sq, and exp_avg with β₁ > 0.
/// Row/column reductions make the update not elementwise, so there is one path. Checked against
/// the paper's algorithm written in float64 in the test.
/// </summary>
public sealed class Adafactor : Optimizer
{
    /// <summary>With <paramref name="lr"/> null the relative step size is used (the paper's
    /// default); giving an lr turns it off, as HF's Adafactor(lr=..., relative_step=False).</summary>
    public Adafactor(IEnumerable<Parameter> parameters, double? lr = null, double eps1 = 1e-30, double eps2 = 1e-3,
        double clipThreshold = 1.0, double decayRate = -0.8, double beta1 = 0, double weightDecay = 0,
        bool scaleParameter = true, bool warmupInit = false, bool maximize = false)
        : this([new ParamGroupSpec(parameters)], lr, eps1, eps2, clipThreshold, decayRate, beta1, weightDecay, scaleParameter, warmupInit, maximize) { }

    public Adafactor(IEnumerable<ParamGroupSpec> groups, double? lr = null, double eps1 = 1e-30, double eps2 = 1e-3,
        double clipThreshold = 1.0, double decayRate = -0.8, double beta1 = 0, double weightDecay = 0,
        bool scaleParameter = true, bool warmupInit = false, bool maximize = false)
        : base(groups, new AdafactorOptions
        {
            LearningRate = lr ?? 1e-2, RelativeStep = lr is null, Eps1 = eps1, Eps2 = eps2, ClipThreshold = clipThreshold,
            DecayRate = decayRate, Beta1 = beta1, WeightDecay = weightDecay, ScaleParameter = scaleParameter,
            WarmupInit = warmupInit, Maximize = maximize,
        }) { }

    /// <summary>Root mean square, as a 0-d tensor.</summary>
    static Tensor Rms(Tensor x) => x.norm().div_(Math.Sqrt(x.numel()));

    protected override void Update(ParamGroup group)
    {
        var o = (AdafactorOptions)group.Options;
        foreach (var p in group.Parameters)
        {
            using var grad = p.grad;
            if (grad is null || p.numel() == 0) continue;
            var g = o.Maximize ? grad.neg() : grad;
            var state = State(p);
            long t = ++state.Step;

            // αₜ stays a 0-d tensor on the parameter's device: no host sync.
            double rho = o.RelativeStep ? Math.Min(o.WarmupInit ? 1e-6 * t : 1e-2, 1 / Math.Sqrt(t)) : o.Lr;
            var alpha = o.ScaleParameter ? Rms(p).clamp_min_(o.Eps2).mul_(rho) : torch.tensor(rho, p.dtype, p.device);
            double beta2t = 1 - Math.Pow(t, o.DecayRate);

            var squared = g.square().add_(o.Eps1);
            Tensor update;
            if (p.dim() >= 2)
            {
                var shape = p.shape;
                var row = state.GetOrCreate("exp_avg_sq_row", () => zeros(shape[..^1], p.dtype, p.device));
                var col = state.GetOrCreate("exp_avg_sq_col", () => zeros([.. shape[..^2], shape[^1]], p.dtype, p.device));
                row.mul_(beta2t).add_(squared.mean([-1L]), alpha: 1 - beta2t);
                col.mul_(beta2t).add_(squared.mean([-2L]), alpha: 1 - beta2t);
                // 1/√V̂ = rsqrt(R / mean(R)) ⊗ rsqrt(C)
                var rowFactor = row.div(row.mean([-1L], keepdim: true)).rsqrt_().unsqueeze(-1);
                var colFactor = col.unsqueeze(-2).rsqrt();
                update = rowFactor.mul(colFactor).mul_(g);
            }
            else
            {
                var v = state.Zeros("exp_avg_sq");
                v.mul_(beta2t).add_(squared, alpha: 1 - beta2t);
                update = v.rsqrt().mul_(g);
            }
            update.div_(Rms(update).div_(o.ClipThreshold).clamp_min_(1.0));
            update.mul_(alpha);
            if (o.Beta1 > 0)
            {
                var m = state.Zeros("exp_avg");
                m.mul_(o.Beta1).add_(update, alpha: 1 - o.Beta1);
                update = m;
            }
            if (o.WeightDecay != 0) p.add_(p.mul(alpha), alpha: -o.WeightDecay);
            p.sub_(update);
        }
    }
}
