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

    /// <summary>Iterations per <see cref="Optimizer.Step(Func{Tensor})"/>.</summary>
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
        if (WeightDecay != 0) throw new ArgumentException("L-BFGS has no weight decay: add the penalty to the loss the closure returns");
        if (Maximize) throw new ArgumentException("L-BFGS minimizes: negate the loss the closure returns to maximize");
        if (MaxIter < 1) throw new ArgumentOutOfRangeException(nameof(MaxIter), MaxIter, "max_iter must be >= 1");
        if (MaxEval < 1) throw new ArgumentOutOfRangeException(nameof(MaxEval), MaxEval, "max_eval must be >= 1");
        if (HistorySize < 1) throw new ArgumentOutOfRangeException(nameof(HistorySize), HistorySize, "history_size must be >= 1");
        CheckNonNegative(ToleranceGrad, "tolerance_grad");
        CheckNonNegative(ToleranceChange, "tolerance_change");
        if (!Enum.IsDefined(LineSearch)) throw new ArgumentOutOfRangeException(nameof(LineSearch), LineSearch, "unknown line search");
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
/// Algorithms 3.5–3.6), as torch.optim.LBFGS of PyTorch 1.13: a quasi-Newton method that keeps
/// the last m steps sₖ = θₖ₊₁ − θₖ and gradient changes yₖ = gₖ₊₁ − gₖ, and applies the
/// inverse-Hessian approximation they define by the two-loop recursion. It works on all
/// parameters flattened into one vector (one group only), and needs a closure, since every
/// iteration re-evaluates the loss:
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
/// The state (history, direction, step, counters) carries over between steps and is saved by
/// <see cref="StateDict"/> under PyTorch's names. Checked against libtorch's torch::optim::LBFGS
/// and Python PyTorch 1.13, with and without strong Wolfe.
/// </summary>
public sealed class Lbfgs : Optimizer
{
    Tensor? _d, _prevFlatGrad;
    readonly List<Tensor> _oldDirs = new(), _oldStps = new();
    readonly List<double> _ro = new();
    double _t, _hDiag = 1, _prevLoss;
    long _nIter, _funcEvals;

    public Lbfgs(IEnumerable<Tensor> parameters, double lr = 1, int maxIter = 20, int? maxEval = null,
        double toleranceGrad = 1e-7, double toleranceChange = 1e-9, int historySize = 100,
        LbfgsLineSearch lineSearch = LbfgsLineSearch.None)
        : base([new ParamGroupSpec(parameters)], new LbfgsOptions
        {
            LearningRate = lr, MaxIter = maxIter, MaxEval = maxEval ?? maxIter * 5 / 4, ToleranceGrad = toleranceGrad,
            ToleranceChange = toleranceChange, HistorySize = historySize, LineSearch = lineSearch,
        }) { }

    /// <summary>L-BFGS has one group: it works on all parameters as one vector.</summary>
    public override ParamGroup AddParamGroup(ParamGroupSpec spec)
    {
        if (ParamGroups.Count > 0) throw new NotSupportedException("L-BFGS doesn't support parameter groups: it optimizes one flattened vector");
        return base.AddParamGroup(spec);
    }

    /// <summary>Not available: every L-BFGS iteration re-evaluates the loss; call Step(closure).</summary>
    public override void Step() =>
        throw new InvalidOperationException("L-BFGS needs a closure that recomputes the loss: call Step(closure)");

    protected override void Update(ParamGroup group) => Step();

    IReadOnlyList<Tensor> Params => ParamGroups[0].Parameters;

    bool _single;

    /// <summary>A number read from a tensor (a dot product, a norm): a 0-d tensor in PyTorch.</summary>
    Num Scalar(Tensor t) => new(t.Item<double>(), _single);

    /// <summary>One L-BFGS step of up to max_iter iterations; returns the loss before it.</summary>
    public override double Step(Func<Tensor> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        var o = (LbfgsOptions)ParamGroups[0].Options;
        _single = Params[0].DType == ScalarType.Float32;
        using var noGrad = Torch.NoGrad();

        double origLoss = Evaluate(closure);
        double loss = origLoss;
        int currentEvals = 1;
        _funcEvals++;
        Tensor? flatGrad = null;
        try
        {
            Keep(ref flatGrad, GatherFlatGrad());
            if (MaxAbs(flatGrad) <= o.ToleranceGrad) return origLoss;

            int nIter = 0;
            while (nIter < o.MaxIter)
            {
                nIter++;
                _nIter++;
                // Temporaries die with the iteration; what carries over is kept explicitly.
                using var iteration = DisposeScope.Begin();

                // ---- direction
                if (_nIter == 1)
                {
                    Keep(ref _d, flatGrad.Neg());
                    ClearHistory();
                    _hDiag = 1;
                }
                else
                {
                    var y = flatGrad.Sub(_prevFlatGrad!);
                    var s = _d!.Mul(_t);
                    var ys = Scalar(y.Dot(s));
                    if (ys > 1e-10)
                    {
                        if (_oldDirs.Count == o.HistorySize) DropOldest();
                        _oldDirs.Add(y.DetachFromDisposeScope());
                        _oldStps.Add(s.DetachFromDisposeScope());
                        _ro.Add((1.0 / ys).Value);
                        _hDiag = (ys / Scalar(y.Dot(y))).Value;
                    }
                    // Two-loop recursion: d = −H·g
                    int count = _oldDirs.Count;
                    var a = new Num[count];
                    var q = flatGrad.Neg();
                    for (int i = count - 1; i >= 0; i--)
                    {
                        a[i] = Scalar(_oldStps[i].Dot(q)) * _ro[i];
                        q.Add_(_oldDirs[i], alpha: -a[i].Value);
                    }
                    var r = q.Mul(_hDiag);
                    for (int i = 0; i < count; i++)
                    {
                        var b = Scalar(_oldDirs[i].Dot(r)) * _ro[i];
                        r.Add_(_oldStps[i], alpha: (a[i] - b).Value);
                    }
                    Keep(ref _d, r);
                }
                if (_prevFlatGrad is null) _prevFlatGrad = flatGrad.Clone().DetachFromDisposeScope();
                else _prevFlatGrad.Copy_(flatGrad);
                _prevLoss = loss;

                // ---- step length
                Num t = _nIter == 1 ? Num.Min(1.0, 1.0 / Scalar(flatGrad.Abs().Sum())) * o.LearningRate : o.LearningRate;
                _t = t.Value;
                var gtd = Scalar(flatGrad.Dot(_d));
                if (gtd > -o.ToleranceChange) break;

                int lsEvals = 0;
                bool optCond = false;
                if (o.LineSearch == LbfgsLineSearch.StrongWolfe)
                {
                    var x = Params.Select(p => p.Clone()).ToArray();
                    (loss, var grad, t, lsEvals) = StrongWolfe(closure, x, t, _d, loss, flatGrad, gtd, o.ToleranceChange);
                    _t = t.Value;
                    Keep(ref flatGrad, grad);
                    AddToParams(_t, _d);
                    optCond = MaxAbs(flatGrad) <= o.ToleranceGrad;
                }
                else
                {
                    AddToParams(_t, _d);
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
                _funcEvals += lsEvals;

                // ---- stopping conditions
                if (nIter == o.MaxIter) break;
                if (currentEvals >= o.MaxEval) break;
                if (optCond) break;
                if (MaxAbs(_d.Mul(_t)) <= o.ToleranceChange) break;
                if (Math.Abs(loss - _prevLoss) < o.ToleranceChange) break;
            }
        }
        finally
        {
            flatGrad?.Dispose();
        }
        return origLoss;
    }

    /// <summary>Strong-Wolfe line search along d from θ = x (PyTorch's _strong_wolfe, itself
    /// minFunc's): bracket a step satisfying f(θ + t·d) ≤ f + c₁·t·gᵀd and |∇f(θ + t·d)ᵀd| ≤ −c₂·gᵀd,
    /// then zoom into the bracket by safeguarded cubic interpolation. Leaves θ = x; returns the
    /// loss and flat gradient at the chosen t, t, and the evaluations used.</summary>
    (double Loss, Tensor Grad, Num T, int Evals) StrongWolfe(Func<Tensor> closure, Tensor[] x, Num t, Tensor d,
        Num f, Tensor g, Num gtd, double toleranceChange, double c1 = 1e-4, double c2 = 0.9, int maxLs = 25)
    {
        var dNorm = MaxAbs(d);
        g = g.Clone();
        var (fNew, gNew) = DirectionalEvaluate(closure, x, t.Value, d);
        int evals = 1;
        var gtdNew = Scalar(gNew.Dot(d));

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
                bracketG = [gPrev, gNew.Clone()];
                bracketGtd = [gtdPrev, gtdNew];
                break;
            }
            // Extrapolate: a cubic's minimum in [t + 0.01·(t − t_prev), 10·t].
            Num minStep = t + 0.01 * (t - tPrev), maxStep = t * 10, previous = t;
            t = CubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, (minStep, maxStep));
            tPrev = previous;
            fPrev = fNew;
            gPrev = gNew.Clone();
            gtdPrev = gtdNew;
            (fNew, gNew) = DirectionalEvaluate(closure, x, t.Value, d);
            evals++;
            gtdNew = Scalar(gNew.Dot(d));
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
            gtdNew = Scalar(gNew.Dot(d));
            lsIter++;

            if (fNew > f + c1 * t * gtd || fNew >= bracketF[low])
            {
                // Not a sufficient decrease, or not below the low end: the trial becomes the high end.
                bracket[high] = t;
                bracketF[high] = fNew;
                bracketG[high] = gNew.Clone();
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
                bracketG[low] = gNew.Clone();
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
        for (int i = 0; i < x.Length; i++) Params[i].Copy_(x[i]);
        return (loss, grad);
    }

    static double Evaluate(Func<Tensor> closure)
    {
        using var grad = Torch.EnableGrad();
        using var scope = DisposeScope.Begin();
        return closure().Item<double>();
    }

    /// <summary>Every parameter's gradient as one vector (zeros for a parameter without one).</summary>
    Tensor GatherFlatGrad()
    {
        using var scope = DisposeScope.Begin();
        var views = new Tensor[Params.Count];
        for (int i = 0; i < views.Length; i++)
        {
            var p = Params[i];
            var g = p.Grad;
            views[i] = g is null ? Torch.Zeros([p.NumEl], p.DType, p.Device) : g.Reshape(-1);
        }
        return scope.MoveOut(Torch.Cat(views));
    }

    /// <summary>θ ← θ + t·update, the flat vector cut back into the parameters' shapes.</summary>
    void AddToParams(double t, Tensor update)
    {
        long offset = 0;
        foreach (var p in Params)
        {
            long n = p.NumEl;
            using var piece = update.Narrow(0, offset, n);
            using var view = piece.View(p.Shape);
            p.Add_(view, alpha: t);
            offset += n;
        }
    }

    /// <summary>max |tᵢ| (compared in the tensor's precision, as PyTorch compares it).</summary>
    Num MaxAbs(Tensor t)
    {
        using var scope = DisposeScope.Begin();
        return Scalar(t.Abs().Max());
    }

    /// <summary>Stores a state tensor made in this step's scope, freeing the one it replaces.</summary>
    static void Keep([NotNull] ref Tensor? slot, Tensor value)
    {
        if (ReferenceEquals(slot, value)) return;
        slot?.Dispose();
        slot = value.DetachFromDisposeScope();
    }

    void DropOldest()
    {
        _oldDirs[0].Dispose();
        _oldStps[0].Dispose();
        _oldDirs.RemoveAt(0);
        _oldStps.RemoveAt(0);
        _ro.RemoveAt(0);
    }

    void ClearHistory()
    {
        while (_oldDirs.Count > 0) DropOldest();
    }

    /// <summary>The groups' hyperparameters, and L-BFGS's global state on the first parameter, as
    /// PyTorch keeps it: n_iter (as the step), func_evals, d, t, old_dirs and old_stps (stacked,
    /// oldest first), ro, H_diag, prev_flat_grad, prev_loss.</summary>
    public override OptimizerState StateDict()
    {
        var result = base.StateDict();
        if (_funcEvals == 0) return result;
        var p = Params[0];
        Tensor Number(double v) => Torch.Scalar(v, ScalarType.Float64, Device.CPU).DetachFromDisposeScope();
        Tensor Copy(Tensor t) => t.Detach().Clone().DetachFromDisposeScope();
        Tensor Stack(List<Tensor> list)
        {
            if (list.Count == 0) return Torch.Empty([0, Params.Sum(q => q.NumEl)], p.DType, p.Device).DetachFromDisposeScope();
            using var scope = DisposeScope.Begin();
            return scope.MoveOut(Torch.Stack(list.ToArray())).DetachFromDisposeScope();
        }
        var entry = new OptimizerState.Entry { Step = _nIter };
        entry.Buffers["func_evals"] = Number(_funcEvals);
        entry.Buffers["t"] = Number(_t);
        entry.Buffers["H_diag"] = Number(_hDiag);
        entry.Buffers["prev_loss"] = Number(_prevLoss);
        entry.Buffers["ro"] = Torch.FromSpan<double>(_ro.ToArray(), [_ro.Count], Device.CPU).DetachFromDisposeScope();
        entry.Buffers["old_dirs"] = Stack(_oldDirs);
        entry.Buffers["old_stps"] = Stack(_oldStps);
        if (_d is not null) entry.Buffers["d"] = Copy(_d);
        if (_prevFlatGrad is not null) entry.Buffers["prev_flat_grad"] = Copy(_prevFlatGrad);
        result.State[0] = entry;
        return result;
    }

    /// <summary>Restores what <see cref="StateDict"/> saved.</summary>
    public override void LoadStateDict(OptimizerState state)
    {
        var groups = new OptimizerState();
        groups.Groups.AddRange(state.Groups);
        base.LoadStateDict(groups);
        ResetState();
        if (!state.State.TryGetValue(0, out var entry)) return;
        var p = Params[0];
        using var scope = DisposeScope.Begin();
        double Number(string name) => entry.Buffers[name].Item<double>();
        Tensor Copy(Tensor t) => t.To(p.Device, p.DType, copy: true).DetachFromDisposeScope();
        _nIter = entry.Step;
        _funcEvals = (long)Number("func_evals");
        _t = Number("t");
        _hDiag = Number("H_diag");
        _prevLoss = Number("prev_loss");
        _ro.AddRange(entry.Buffers["ro"].To(ScalarType.Float64).ToArray<double>());
        var dirs = entry.Buffers["old_dirs"];
        var stps = entry.Buffers["old_stps"];
        for (int i = 0; i < _ro.Count; i++)
        {
            _oldDirs.Add(Copy(dirs.Select(0, i)));
            _oldStps.Add(Copy(stps.Select(0, i)));
        }
        if (entry.Buffers.TryGetValue("d", out var d)) _d = Copy(d);
        if (entry.Buffers.TryGetValue("prev_flat_grad", out var prev)) _prevFlatGrad = Copy(prev);
    }

    void ResetState()
    {
        ClearHistory();
        _d?.Dispose();
        _d = null;
        _prevFlatGrad?.Dispose();
        _prevFlatGrad = null;
        _t = 0;
        _hDiag = 1;
        _prevLoss = 0;
        _nIter = 0;
        _funcEvals = 0;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        ResetState();
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
