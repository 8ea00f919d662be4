using System.Diagnostics.CodeAnalysis;

namespace Engine.Optim;

/// <summary>How L-BFGS picks the step length along its direction.</summary>
public enum LbfgsLineSearch
{
    /// <summary>A fixed step: lr (and min(1, 1/‖g‖₁)·lr on the very first iteration).</summary>
    None,
    /// <summary>A line search that ends at a step satisfying the strong Wolfe conditions
    /// (sufficient decrease c₁ = 1e-4, curvature c₂ = 0.9), by bracketing and cubic-interpolation zoom.</summary>
    StrongWolfe,
}

public sealed class LbfgsOptions : OptimizerOptions
{
    public LbfgsOptions() => LearningRate = 1;

    /// <summary>Iterations per step(closure).</summary>
    public int MaxIter { get; set; } = 20;
    /// <summary>Loss evaluations per step (PyTorch's default: max_iter·5/4).</summary>
    public int MaxEval { get; set; } = 25;
    /// <summary>Stop when max |gᵢ| ≤ this (first-order optimality).</summary>
    public double ToleranceGrad { get; set; } = 1e-7;
    /// <summary>Stop when the loss or the step changes by less than this.</summary>
    public double ToleranceChange { get; set; } = 1e-9;
    /// <summary>m: how many (s, y) pairs the inverse-Hessian approximation remembers.</summary>
    public int HistorySize { get; set; } = 100;
    public LbfgsLineSearch LineSearch { get; set; } = LbfgsLineSearch.None;

    public override void Validate()
    {
        base.Validate();
        if (WeightDecay != 0) throw new ArgumentException("Lbfgs: L-BFGS has no weight_decay: add the penalty to the loss the closure returns", "weight_decay");
        if (Maximize) throw new ArgumentException("Lbfgs: L-BFGS minimizes: negate the loss the closure returns to maximize", "maximize");
        if (MaxIter < 1) throw new ArgumentOutOfRangeException("max_iter", MaxIter, "Lbfgs: max_iter must be >= 1");
        if (MaxEval < 1) throw new ArgumentOutOfRangeException("max_eval", MaxEval, "Lbfgs: max_eval must be >= 1");
        if (HistorySize < 1) throw new ArgumentOutOfRangeException("history_size", HistorySize, "Lbfgs: history_size must be >= 1");
        CheckNonNegative(ToleranceGrad, "tolerance_grad");
        CheckNonNegative(ToleranceChange, "tolerance_change");
        if (!Enum.IsDefined(LineSearch)) throw new ArgumentOutOfRangeException("line_search_fn", LineSearch, "Lbfgs: unknown line search");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([
            ("max_iter", MaxIter), ("max_eval", MaxEval), ("tolerance_grad", ToleranceGrad), ("tolerance_change", ToleranceChange),
            ("history_size", HistorySize), ("line_search_fn", (int)LineSearch),
        ]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "max_iter": MaxIter = (int)value; break;
            case "max_eval": MaxEval = (int)value; break;
            case "tolerance_grad": ToleranceGrad = value; break;
            case "tolerance_change": ToleranceChange = value; break;
            case "history_size": HistorySize = (int)value; break;
            case "line_search_fn": LineSearch = (LbfgsLineSearch)(int)value; break;
            default: base.SetValue(name, value); break;
        }
    }
}


/// <summary>
/// L-BFGS (Nocedal and Wright, "Numerical Optimization", Algorithms 7.4–7.5; line search
/// Algorithms 3.5–3.6), as torch.optim.LBFGS: a quasi-Newton method that keeps the last m steps
/// sₖ = θₖ₊₁ − θₖ and gradient changes yₖ = gₖ₊₁ − gₖ, and applies the inverse-Hessian
/// approximation they define by the two-loop recursion. It works on all parameters flattened
/// into one vector (one group only), and needs a closure, since every iteration re-evaluates the loss:
/// <code>
/// each iteration, with g = ∇f(θ):
///   first ever: d ← −g,  H₀ = 1
///   else: y ← g − g_prev, s ← t·d;  if yᵀs > 1e-10: remember (s, y, ρ = 1/yᵀs) (drop the oldest
///         beyond m) and H₀ ← yᵀs / yᵀy
///         q ← −g;  for i newest→oldest: aᵢ ← ρᵢ·sᵢᵀq,  q ← q − aᵢ·yᵢ       two-loop recursion
///         r ← H₀·q; for i oldest→newest: bᵢ ← ρᵢ·yᵢᵀr, r ← r + (aᵢ − bᵢ)·sᵢ
///         d ← r
///   t ← min(1, 1/‖g‖₁)·lr on the first iteration ever, else lr;  stop if gᵀd > −tolerance_change
///   θ ← θ + t·d, with t from the strong-Wolfe line search if enabled
///   stop after max_iter iterations or max_eval evaluations, when max|g| ≤ tolerance_grad, or
///   when max|t·d| or |Δloss| falls below tolerance_change
/// </code>
/// The state carries over between steps and lives, as in PyTorch, in the first parameter's
/// state under PyTorch's names (n_iter as the step count; func_evals, d, t, old_dirs and old_stps
/// stacked oldest first, ro, H_diag, prev_flat_grad, prev_loss), so state_dict, load_state_dict and
/// save_state_dict resume exactly. Checked against TorchSharp's torch.optim.LBFGS (libtorch's
/// C++ L-BFGS, which has no line search) and Python PyTorch 1.13's trajectories with and without
/// strong Wolfe.
/// </summary>
public sealed class Lbfgs : Optimizer
{
    public Lbfgs(IEnumerable<Parameter> parameters, double lr = 1, int maxIter = 20, int? maxEval = null,
        double toleranceGrad = 1e-7, double toleranceChange = 1e-9, int historySize = 100,
        LbfgsLineSearch lineSearch = LbfgsLineSearch.None)
        : base([new ParamGroupSpec(parameters)], new LbfgsOptions
        {
            Lr = lr, MaxIter = maxIter, MaxEval = maxEval ?? maxIter * 5 / 4, ToleranceGrad = toleranceGrad,
            ToleranceChange = toleranceChange, HistorySize = historySize, LineSearch = lineSearch,
        }) { }

    /// <summary>L-BFGS has one group: it works on all parameters as one vector.</summary>
    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group) =>
        throw new NotSupportedException("Lbfgs doesn't support parameter groups: it optimizes one flattened vector");

    protected override void Update(ParamGroup group) =>
        throw new InvalidOperationException("Lbfgs needs a closure that recomputes the loss: call step(closure)");

    IReadOnlyList<Parameter> Params => Groups[0].ParameterList;

    bool _single;

    /// <summary>A number read from a tensor (a dot product, a norm): a 0-d tensor in PyTorch.</summary>
    Num Scalar(Tensor t) => new(t.ToDouble(), _single);

    /// <summary>One L-BFGS step of up to max_iter iterations; returns the loss the closure gave first.</summary>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        if (closure is null) throw new InvalidOperationException("Lbfgs needs a closure that recomputes the loss: call step(closure)");
        if (Groups.Count != 1) throw new NotSupportedException($"Lbfgs optimizes one flattened vector: it has {Groups.Count} parameter groups");
        var o = (LbfgsOptions)Groups[0].Options;
        _single = Params[0].dtype == ScalarType.Float32;

        Tensor origLoss;
        using (enable_grad()) origLoss = closure();
        double loss = origLoss.ToDouble();
        using var noGrad = no_grad();
        using var stepScope = NewDisposeScope();
        var s = new History(State(Params[0]));
        int currentEvals = 1;
        s.FuncEvals++;
        Tensor? flatGrad = null;
        try
        {
            Keep(ref flatGrad, GatherFlatGrad());
            if (MaxAbs(flatGrad) <= o.ToleranceGrad) return origLoss;

            int nIter = 0;
            while (nIter < o.MaxIter)
            {
                nIter++;
                s.NIter++;
                // Temporaries die with the iteration; what carries over is kept explicitly.
                using var iteration = NewDisposeScope();

                // ---- direction
                if (s.NIter == 1)
                {
                    Keep(ref s.D, flatGrad.neg());
                    s.ClearHistory();
                    s.HDiag = 1;
                }
                else
                {
                    var y = flatGrad.sub(s.PrevFlatGrad!);
                    var st = s.D!.mul(s.T);
                    var ys = Scalar(y.dot(st));
                    if (ys > 1e-10)
                    {
                        if (s.OldDirs.Count == o.HistorySize) s.DropOldest();
                        s.OldDirs.Add(y.DetachFromDisposeScope());
                        s.OldStps.Add(st.DetachFromDisposeScope());
                        s.Ro.Add((1.0 / ys).Value);
                        s.HDiag = (ys / Scalar(y.dot(y))).Value;
                    }
                    // Two-loop recursion: d = −H·g
                    int count = s.OldDirs.Count;
                    var a = new Num[count];
                    var q = flatGrad.neg();
                    for (int i = count - 1; i >= 0; i--)
                    {
                        a[i] = Scalar(s.OldStps[i].dot(q)) * s.Ro[i];
                        q.add_(s.OldDirs[i], alpha: -a[i].Value);
                    }
                    var r = q.mul(s.HDiag);
                    for (int i = 0; i < count; i++)
                    {
                        var b = Scalar(s.OldDirs[i].dot(r)) * s.Ro[i];
                        r.add_(s.OldStps[i], alpha: (a[i] - b).Value);
                    }
                    Keep(ref s.D, r);
                }
                if (s.PrevFlatGrad is null) s.PrevFlatGrad = flatGrad.clone().DetachFromDisposeScope();
                else s.PrevFlatGrad.copy_(flatGrad);
                s.PrevLoss = loss;

                // ---- step length
                Num t = s.NIter == 1 ? Num.Min(1.0, 1.0 / Scalar(flatGrad.abs().sum())) * o.Lr : o.Lr;
                s.T = t.Value;
                var gtd = Scalar(flatGrad.dot(s.D));
                if (gtd > -o.ToleranceChange) break;

                int lsEvals = 0;
                bool optCond = false;
                if (o.LineSearch == LbfgsLineSearch.StrongWolfe)
                {
                    var x = Params.Select(p => p.clone()).ToArray();
                    (loss, var grad, t, lsEvals) = StrongWolfe(closure, x, t, s.D, loss, flatGrad, gtd, o.ToleranceChange);
                    s.T = t.Value;
                    Keep(ref flatGrad, grad);
                    AddToParams(s.T, s.D);
                    optCond = MaxAbs(flatGrad) <= o.ToleranceGrad;
                }
                else
                {
                    AddToParams(s.T, s.D);
                    if (nIter != o.MaxIter)
                    {
                        // No re-evaluation after the last iteration: in a stochastic setting it buys nothing.
                        loss = Evaluate(closure);
                        Keep(ref flatGrad, GatherFlatGrad());
                        optCond = MaxAbs(flatGrad) <= o.ToleranceGrad;
                        lsEvals = 1;
                    }
                }
                currentEvals += lsEvals;
                s.FuncEvals += lsEvals;

                // ---- stopping conditions
                if (nIter == o.MaxIter) break;
                if (currentEvals >= o.MaxEval) break;
                if (optCond) break;
                if (MaxAbs(s.D.mul(s.T)) <= o.ToleranceChange) break;
                if (Math.Abs(loss - s.PrevLoss) < o.ToleranceChange) break;
            }
        }
        finally
        {
            flatGrad?.Dispose();
            s.Save(Params);
        }
        return origLoss;
    }

    /// <summary>L-BFGS's state, read from the first parameter's <see cref="ParamState"/> at the
    /// start of a step and written back at its end (so any load_state_dict in between is seen).
    /// The working tensors are detached copies, freed on <see cref="Save"/>.</summary>
    sealed class History
    {
        readonly ParamState _state;
        public long NIter, FuncEvals;
        public double T, HDiag = 1, PrevLoss;
        public Tensor? D, PrevFlatGrad;
        public readonly List<Tensor> OldDirs = new(), OldStps = new();
        public readonly List<double> Ro = new();

        public History(ParamState state)
        {
            _state = state;
            NIter = state.Step;
            FuncEvals = (long)Number("func_evals", 0);
            T = Number("t", 0);
            HDiag = Number("H_diag", 1);
            PrevLoss = Number("prev_loss", 0);
            if (state.TryGet("d", out var d)) D = d.clone().DetachFromDisposeScope();
            if (state.TryGet("prev_flat_grad", out var prev)) PrevFlatGrad = prev.clone().DetachFromDisposeScope();
            if (state.TryGet("ro", out var ro))
            {
                using var cpu = ro.to(ScalarType.Float64).cpu();
                Ro.AddRange(cpu.data<double>().ToArray());
                var dirs = state["old_dirs"];
                var stps = state["old_stps"];
                if (dirs.dim() != 2 || stps.dim() != 2 || dirs.shape[0] != Ro.Count || stps.shape[0] != Ro.Count)
                    throw new InvalidDataException($"Lbfgs: the state's history doesn't fit together (ro [{Ro.Count}], old_dirs [{string.Join(", ", dirs.shape)}], old_stps [{string.Join(", ", stps.shape)}])");
                for (int i = 0; i < Ro.Count; i++)
                {
                    OldDirs.Add(dirs[i].clone().DetachFromDisposeScope());
                    OldStps.Add(stps[i].clone().DetachFromDisposeScope());
                }
            }
        }

        double Number(string name, double fallback) => _state.TryGet(name, out var t) ? t.ToDouble() : fallback;

        public void DropOldest()
        {
            OldDirs[0].Dispose();
            OldStps[0].Dispose();
            OldDirs.RemoveAt(0);
            OldStps.RemoveAt(0);
            Ro.RemoveAt(0);
        }

        public void ClearHistory()
        {
            while (OldDirs.Count > 0) DropOldest();
        }

        /// <summary>Writes the state back under PyTorch's names and frees the working copies.</summary>
        public void Save(IReadOnlyList<Parameter> parameters)
        {
            static Tensor Number(double v) => tensor(v, ScalarType.Float64);
            var p = parameters[0];
            _state.Step = NIter;
            _state["func_evals"] = Number(FuncEvals);
            _state["t"] = Number(T);
            _state["H_diag"] = Number(HDiag);
            _state["prev_loss"] = Number(PrevLoss);
            _state["ro"] = tensor(Ro.ToArray(), ScalarType.Float64);
            long n = parameters.Sum(q => q.numel());
            _state["old_dirs"] = OldDirs.Count == 0 ? empty([0, n], p.dtype, p.device) : stack(OldDirs);
            _state["old_stps"] = OldStps.Count == 0 ? empty([0, n], p.dtype, p.device) : stack(OldStps);
            if (D is not null) _state["d"] = D;
            if (PrevFlatGrad is not null) _state["prev_flat_grad"] = PrevFlatGrad;
            foreach (var h in OldDirs) h.Dispose();
            foreach (var h in OldStps) h.Dispose();
        }
    }

    /// <summary>Strong-Wolfe line search along d from θ = x (PyTorch's _strong_wolfe, itself
    /// minFunc's): bracket a step satisfying f(θ + t·d) ≤ f + c₁·t·gᵀd and |∇f(θ + t·d)ᵀd| ≤ −c₂·gᵀd,
    /// then zoom into the bracket by safeguarded cubic interpolation. Leaves θ = x; returns the
    /// loss and flat gradient at the chosen t, t, and the evaluations used.</summary>
    (double Loss, Tensor Grad, Num T, int Evals) StrongWolfe(Func<Tensor> closure, Tensor[] x, Num t, Tensor d,
        Num f, Tensor g, Num gtd, double toleranceChange, double c1 = 1e-4, double c2 = 0.9, int maxLs = 25)
    {
        var dNorm = MaxAbs(d);
        g = g.clone();
        var (fNew, gNew) = DirectionalEvaluate(closure, x, t.Value, d);
        int evals = 1;
        var gtdNew = Scalar(gNew.dot(d));

        // Bracketing phase: find an interval that holds a point satisfying the conditions.
        Num tPrev = 0, fPrev = f, gtdPrev = gtd;
        var gPrev = g;
        bool done = false;
        int lsIter = 0;
        Num[] bracket = [], bracketF = [], bracketGtd = [];
        Tensor[] bracketG = [];
        while (lsIter < maxLs)
        {
            bool bracketed = fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev);  // no sufficient decrease
            if (!bracketed && Num.Abs(gtdNew) <= -c2 * gtd)
            {
                // Both strong-Wolfe conditions hold at t.
                bracket = [t];
                bracketF = [fNew];
                bracketG = [gNew];
                done = true;
                break;
            }
            if (bracketed || gtdNew >= 0)  // ... or the slope turned upwards: a minimum lies in [t_prev, t]
            {
                bracket = [tPrev, t];
                bracketF = [fPrev, fNew];
                bracketG = [gPrev, gNew.clone()];
                bracketGtd = [gtdPrev, gtdNew];
                break;
            }
            // Extrapolate: a cubic's minimum in [t + 0.01·(t − t_prev), 10·t].
            Num minStep = t + 0.01 * (t - tPrev), maxStep = t * 10, previous = t;
            t = CubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, (minStep, maxStep));
            tPrev = previous;
            fPrev = fNew;
            gPrev = gNew.clone();
            gtdPrev = gtdNew;
            (fNew, gNew) = DirectionalEvaluate(closure, x, t.Value, d);
            evals++;
            gtdNew = Scalar(gNew.dot(d));
            lsIter++;
        }
        if (lsIter == maxLs)
        {
            bracket = [0, t];
            bracketF = [f, fNew];
            bracketG = [g, gNew];
        }

        // Zoom phase: shrink the bracket until a point satisfies the conditions.
        bool insufficientProgress = false;
        int low = bracketF[0] <= bracketF[^1] ? 0 : 1, high = 1 - low;
        while (!done && lsIter < maxLs)
        {
            if (Num.Abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
            t = CubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);

            // Safeguard: a trial too close to an end (twice in a row, or outside) moves to 10% inside it.
            Num bMax = Num.Max(bracket[0], bracket[1]), bMin = Num.Min(bracket[0], bracket[1]);
            var eps = 0.1 * (bMax - bMin);
            if (Num.Min(bMax - t, t - bMin) < eps)
            {
                if (insufficientProgress || t >= bMax || t <= bMin)
                {
                    t = Num.Abs(t - bMax) < Num.Abs(t - bMin) ? bMax - eps : bMin + eps;
                    insufficientProgress = false;
                }
                else insufficientProgress = true;
            }
            else insufficientProgress = false;

            (fNew, gNew) = DirectionalEvaluate(closure, x, t.Value, d);
            evals++;
            gtdNew = Scalar(gNew.dot(d));
            lsIter++;

            if (fNew > f + c1 * t * gtd || fNew >= bracketF[low])
            {
                // Not a sufficient decrease, or not below the low end: the trial becomes the high end.
                bracket[high] = t;
                bracketF[high] = fNew;
                bracketG[high] = gNew.clone();
                bracketGtd[high] = gtdNew;
                (low, high) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0);
            }
            else
            {
                if (Num.Abs(gtdNew) <= -c2 * gtd) done = true;
                else if (gtdNew * (bracket[high] - bracket[low]) >= 0)
                {
                    // The old low end becomes the high end.
                    bracket[high] = bracket[low];
                    bracketF[high] = bracketF[low];
                    bracketG[high] = bracketG[low];
                    bracketGtd[high] = bracketGtd[low];
                }
                bracket[low] = t;
                bracketF[low] = fNew;
                bracketG[low] = gNew.clone();
                bracketGtd[low] = gtdNew;
            }
        }
        return (bracketF[low].Value, bracketG[low], bracket[low], evals);
    }

    /// <summary>The minimizer of the cubic through (x₁, f₁) and (x₂, f₂) with slopes g₁, g₂,
    /// clamped to the bounds (default: between x₁ and x₂); their midpoint if the cubic has none.</summary>
    static Num CubicInterpolate(Num x1, Num f1, Num g1, Num x2, Num f2, Num g2, (Num Min, Num Max)? bounds = null)
    {
        var (lo, hi) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1));
        var d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        var d2Square = d1 * d1 - g1 * g2;
        if (!(d2Square >= 0)) return (lo + hi) / 2;
        var d2 = Num.Sqrt(d2Square);
        var minPos = x1 <= x2
            ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
            : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
        return Num.Min(Num.Max(minPos, lo), hi);
    }

    /// <summary>f and ∇f at x + t·d; the parameters are put back to x.</summary>
    (double Loss, Tensor Grad) DirectionalEvaluate(Func<Tensor> closure, Tensor[] x, double t, Tensor d)
    {
        AddToParams(t, d);
        double loss = Evaluate(closure);
        var grad = GatherFlatGrad();
        for (int i = 0; i < x.Length; i++) Params[i].copy_(x[i]);
        return (loss, grad);
    }

    static double Evaluate(Func<Tensor> closure)
    {
        using var grad = enable_grad();
        using var scope = NewDisposeScope();
        return closure().ToDouble();
    }

    /// <summary>Every parameter's gradient as one vector (zeros for a parameter without one).</summary>
    Tensor GatherFlatGrad()
    {
        using var scope = NewDisposeScope();
        var views = new Tensor[Params.Count];
        for (int i = 0; i < views.Length; i++)
        {
            var p = Params[i];
            var g = p.grad;
            views[i] = g is null ? zeros([p.numel()], p.dtype, p.device) : g.reshape(-1);
        }
        return cat(views).MoveToOuterDisposeScope();
    }

    /// <summary>θ ← θ + t·update, the flat vector cut back into the parameters' shapes.</summary>
    void AddToParams(double t, Tensor update)
    {
        long offset = 0;
        foreach (var p in Params)
        {
            long n = p.numel();
            using var piece = update.narrow(0, offset, n);
            using var view = piece.view(p.shape);
            p.add_(view, alpha: t);
            offset += n;
        }
    }

    /// <summary>max |tᵢ| (compared in the tensor's precision, as PyTorch compares it).</summary>
    Num MaxAbs(Tensor t)
    {
        using var scope = NewDisposeScope();
        return Scalar(t.abs().max());
    }

    /// <summary>Stores a tensor made in an iteration's scope, freeing the one it replaces.</summary>
    static void Keep([System.Diagnostics.CodeAnalysis.NotNull] ref Tensor? slot, Tensor value)
    {
        if (ReferenceEquals(slot, value)) return;
        slot?.Dispose();
        slot = value.DetachFromDisposeScope();
    }

    /// <summary>
    /// A scalar of the algorithm as PyTorch's lbfgs.py holds it: a Python float (double), or a
    /// number left in a 0-d tensor (a dot product, a norm, anything computed from one). With
    /// float32 parameters every operation that touches such a tensor rounds to float32 (a Python
    /// float operand is converted to float32 first), and comparisons happen in float32; this
    /// reproduces that, so float32 trajectories follow PyTorch's to the bit instead of drifting
    /// through different line-search decisions. With float64 parameters it is plain double
    /// arithmetic.
    /// </summary>
    readonly struct Num
    {
        public readonly double Value;
        /// <summary>A float32 tensor's value (always exactly representable as float).</summary>
        readonly bool _single;

        public Num(double value, bool single)
        {
            Value = single ? (float)value : value;
            _single = single;
        }

        public static implicit operator Num(double value) => new(value, false);

        // Two floats combined in double and rounded once are correctly rounded (53 ≥ 2·24 + 2).
        static Num Op(Num a, Num b, Func<double, double, double> op) =>
            a._single || b._single ? new(op((float)a.Value, (float)b.Value), true) : new(op(a.Value, b.Value), false);

        static bool Compare(Num a, Num b, Func<double, double, bool> op) =>
            a._single || b._single ? op((float)a.Value, (float)b.Value) : op(a.Value, b.Value);

        public static Num operator +(Num a, Num b) => Op(a, b, static (x, y) => x + y);
        public static Num operator -(Num a, Num b) => Op(a, b, static (x, y) => x - y);
        public static Num operator *(Num a, Num b) => Op(a, b, static (x, y) => x * y);
        public static Num operator /(Num a, Num b) => Op(a, b, static (x, y) => x / y);
        public static Num operator -(Num a) => new(-a.Value, a._single);
        public static bool operator <(Num a, Num b) => Compare(a, b, static (x, y) => x < y);
        public static bool operator >(Num a, Num b) => Compare(a, b, static (x, y) => x > y);
        public static bool operator <=(Num a, Num b) => Compare(a, b, static (x, y) => x <= y);
        public static bool operator >=(Num a, Num b) => Compare(a, b, static (x, y) => x >= y);

        public static Num Abs(Num a) => new(Math.Abs(a.Value), a._single);
        public static Num Sqrt(Num a) => new(Math.Sqrt(a.Value), a._single);
        /// <summary>Python's min and max: the first argument unless the second is strictly beyond it.</summary>
        public static Num Min(Num a, Num b) => b < a ? b : a;
        public static Num Max(Num a, Num b) => b > a ? b : a;

        public override string ToString() => Value.ToString("R");
    }
}
