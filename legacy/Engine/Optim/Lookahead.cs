namespace Engine.Optim;

/// <summary>
/// Lookahead (Zhang, Lucas, Hinton and Ba, 2019, "Lookahead Optimizer: k steps forward, 1 step
/// back", Algorithm 1), around any optimizer A: the fast weights θ take k steps of A, then the
/// slow weights φ move a fraction α of the way towards them and the fast weights restart there.
/// <code>
/// φ ← θ₀                                   slow weights, at construction
/// every step:  θ ← θ + A(∇f(θ))            the inner optimizer's step
/// every k-th:  φ ← φ + α·(θ − φ);  θ ← φ    synchronize
/// </code>
/// The wrapper shares the inner optimizer's parameter groups (a schedule that sets lr on it sets
/// the inner's lr) and owns the inner optimizer (disposing the wrapper disposes it). The inner
/// optimizer's <see cref="Optimizer.Implementation"/> picks its update path. State dicts hold the
/// inner state plus each parameter's slow weights ("slow_param") and the step count
/// ("lookahead_step", with "lookahead_k" and "lookahead_alpha") in every group's values.
/// Checked against the paper's algorithm written in float64 in the test.
/// </summary>
public class Lookahead : Optimizer
{
    const string Slow = "slow_param";

    /// <summary>The optimizer that moves the fast weights.</summary>
    public Optimizer Inner { get; }
    /// <summary>k: inner steps between synchronizations.</summary>
    public int K { get; }
    /// <summary>α: the slow weights' step size towards the fast weights.</summary>
    public double Alpha { get; }
    /// <summary>Inner steps taken (a synchronization follows every k-th).</summary>
    public long StepCount { get; private set; }

    public Lookahead(Optimizer inner, int k = 5, double alpha = 0.5) : base(inner ?? throw new ArgumentNullException(nameof(inner)))
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "k, the synchronization period, must be >= 1");
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in [0, 1]");
        if (inner is Lookahead) throw new ArgumentException("Lookahead around Lookahead is not supported", nameof(inner));
        Inner = inner;
        K = k;
        Alpha = alpha;
        foreach (var g in ParamGroups) KeepSlowWeights(g);
    }

    /// <summary>φ ← θ for a group's parameters (at construction, or when a group is added).</summary>
    void KeepSlowWeights(ParamGroup group)
    {
        using var noGrad = Torch.NoGrad();
        foreach (var p in group.Parameters) State(p)[Slow] = p.Detach().Clone();
    }

    /// <summary>Adds the group to the inner optimizer; its slow weights start at its current values.</summary>
    public override ParamGroup AddParamGroup(ParamGroupSpec spec)
    {
        var group = Inner.AddParamGroup(spec);
        AdoptParamGroup(group);
        KeepSlowWeights(group);
        return group;
    }

    public override void Step()
    {
        Inner.Step();
        AfterInnerStep();
    }

    public override double Step(Func<Tensor> closure)
    {
        double loss = Inner.Step(closure);
        AfterInnerStep();
        return loss;
    }

    protected override void Update(ParamGroup group) =>
        throw new InvalidOperationException("Lookahead steps through its inner optimizer");

    void AfterInnerStep()
    {
        if (++StepCount % K != 0) return;
        using var noGrad = Torch.NoGrad();
        using var scope = DisposeScope.Begin();
        foreach (var g in ParamGroups)
            foreach (var p in g.Parameters)
            {
                var slow = State(p)[Slow];
                slow.Add_(p.Sub(slow), alpha: Alpha);   // φ ← φ + α(θ − φ)
                p.Copy_(slow);                           // θ ← φ
            }
    }

    /// <summary>The inner optimizer's state, with each parameter's slow weights and the step count added.</summary>
    public override OptimizerState StateDict()
    {
        var result = Inner.StateDict();
        using var own = base.StateDict();
        foreach (var (index, entry) in own.State)
        {
            if (!result.State.TryGetValue(index, out var target)) result.State[index] = target = new OptimizerState.Entry();
            target.Buffers[Slow] = entry.Buffers[Slow];
            entry.Buffers.Remove(Slow);
        }
        foreach (var g in result.Groups)
        {
            g.Values["lookahead_step"] = StepCount;
            g.Values["lookahead_k"] = K;
            g.Values["lookahead_alpha"] = Alpha;
        }
        return result;
    }

    /// <summary>Restores what <see cref="StateDict"/> saved: the inner state, the slow weights and the step count.</summary>
    public override void LoadStateDict(OptimizerState state)
    {
        var inner = new OptimizerState();
        var own = new OptimizerState();
        foreach (var g in state.Groups)
        {
            var values = new Dictionary<string, double>(g.Values);
            values.Remove("lookahead_step");
            values.Remove("lookahead_k");
            values.Remove("lookahead_alpha");
            inner.Groups.Add(new OptimizerState.Group { Params = g.Params, Values = values });
            own.Groups.Add(new OptimizerState.Group { Params = g.Params });
        }
        foreach (var (index, entry) in state.State)
        {
            var innerEntry = new OptimizerState.Entry { Step = entry.Step };
            foreach (var (name, t) in entry.Buffers)
            {
                if (name == Slow) own.State[index] = new OptimizerState.Entry { Buffers = { [Slow] = t } };
                else innerEntry.Buffers[name] = t;
            }
            // A parameter only Lookahead knew (no inner state yet) stays without inner state.
            if (innerEntry.Buffers.Count > 0 || innerEntry.Step != 0) inner.State[index] = innerEntry;
        }
        Inner.LoadStateDict(inner);
        base.LoadStateDict(own);
        if (state.Groups.Count > 0 && state.Groups[0].Values.TryGetValue("lookahead_step", out var step)) StepCount = (long)step;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Inner.Dispose();
    }
}
