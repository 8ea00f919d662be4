namespace Engine.Optim;

/// <summary>
/// Lookahead (Zhang, Lucas, Hinton and Ba, 2019, "Lookahead Optimizer: k steps forward, 1 step
/// back", Algorithm 1), around any Engine optimizer A: the fast weights θ take k steps of A, then
/// the slow weights φ move a fraction α of the way towards them and the fast weights restart there.
/// <code>
/// φ ← θ₀                                   slow weights, before the first step
/// every step:  θ ← θ + A(∇f(θ))            the inner optimizer's step
/// every k-th:  φ ← φ + α·(θ − φ);  θ ← φ    synchronize
/// </code>
/// The wrapper shares the inner optimizer's parameter groups and per-parameter states (a schedule
/// that sets lr on it sets the inner's lr) and owns the inner optimizer (disposing the wrapper
/// disposes it). The inner optimizer's <see cref="Optimizer.Implementation"/> picks its update path.
/// Each parameter's state holds, beside the inner buffers, its slow weights ("slow_param") and the
/// Lookahead steps it has seen ("lookahead_step", a 0-d int64 tensor), so state_dict,
/// load_state_dict and save_state_dict resume mid-cycle exactly.
/// Checked against the paper's algorithm written in float64 in the test.
/// </summary>
public class Lookahead : Optimizer
{
    const string Slow = "slow_param", Count = "lookahead_step";

    /// <summary>The optimizer that moves the fast weights.</summary>
    public Optimizer Inner { get; }
    /// <summary>k: inner steps between synchronizations.</summary>
    public int K { get; }
    /// <summary>α: the slow weights' step size towards the fast weights.</summary>
    public double Alpha { get; }

    public Lookahead(Optimizer inner, int k = 5, double alpha = 0.5) : base(Checked(inner, k, alpha))
    {
        Inner = inner;
        K = k;
        Alpha = alpha;
    }

    static Optimizer Checked(Optimizer inner, int k, double alpha)
    {
        if (inner is null) throw new ArgumentNullException(nameof(inner), "Lookahead: no inner optimizer");
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "Lookahead: k, the synchronization period, must be >= 1");
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "Lookahead: alpha must be in [0, 1]");
        if (inner is Lookahead) throw new ArgumentException("Lookahead around Lookahead is not supported", nameof(inner));
        return inner;
    }

    /// <summary>The inner optimizer's step, then every k-th step the synchronization.</summary>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        using (no_grad())
            foreach (var g in Groups)
                foreach (var p in g.Parameters)
                {
                    var state = State(p);
                    // φ₀ = θ₀ for parameters that have none yet (at the first step, or added since).
                    if (!state.TryGet(Slow, out _)) state[Slow] = p.detach().clone();
                    if (!state.TryGet(Count, out _)) state[Count] = zeros(Array.Empty<long>(), ScalarType.Int64);
                }
        var loss = Inner.step(closure);
        using (no_grad())
        using (NewDisposeScope())
            foreach (var g in Groups)
                foreach (var p in g.Parameters)
                {
                    var state = State(p);
                    if (Advance(state[Count]) % K != 0) continue;
                    var slow = state[Slow];
                    slow.add_(p.sub(slow), alpha: Alpha);   // φ ← φ + α(θ − φ)
                    p.copy_(slow);                           // θ ← φ
                }
        return loss;
    }

    /// <summary>Increments a 0-d int64 counter and returns the new value (through its address when
    /// on the CPU: no managed wrapper, no sync).</summary>
    static long Advance(Tensor counter)
    {
        if (counter.device_type == DeviceType.CPU && counter.dtype == ScalarType.Int64)
        {
            long value;
            unsafe { value = ++*(long*)NativeTensor.Data(counter); }
            GC.KeepAlive(counter);
            return value;
        }
        counter.add_(1);
        return counter.ToInt64();
    }

    /// <summary>Zeroes gradients the inner optimizer's way (in place where it keeps flat buffers).</summary>
    public override void zero_grad(bool setToNone) => Inner.zero_grad(setToNone);

    protected override void Update(ParamGroup group) =>
        throw new InvalidOperationException("Lookahead steps through its inner optimizer");

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Inner.Dispose();
    }
}
