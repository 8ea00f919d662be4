namespace Engine.Optim;

/// <summary>
/// The base of every optimizer (torch.optim.Optimizer): parameter groups with their own
/// hyperparameters, per-parameter state, <see cref="ZeroGrad"/>, <see cref="Step()"/> (with an
/// optional closure that re-evaluates the loss, as L-BFGS needs), and state save/load so a resumed
/// run continues exactly. Parameters whose gradient is null are skipped, as in PyTorch.
/// </summary>
public abstract class Optimizer : IDisposable
{
    readonly List<ParamGroup> _groups = new();
    readonly Dictionary<Tensor, ParamState> _state = new(ReferenceEqualityComparer.Instance);
    readonly HashSet<Tensor> _all = new(ReferenceEqualityComparer.Instance);

    public IReadOnlyList<ParamGroup> ParamGroups => _groups;

    /// <summary>Which update path runs (Auto: multi-tensor on CUDA, fused on CPU).</summary>
    public Implementation Implementation { get; set; } = Implementation.Auto;

    /// <summary>The defaults new groups start from.</summary>
    public OptimizerOptions DefaultOptions { get; }

    protected Optimizer(IEnumerable<ParamGroupSpec> groups, OptimizerOptions defaults)
    {
        defaults.Validate();
        DefaultOptions = defaults;
        foreach (var g in groups) AddParamGroup(g);
        if (_groups.Sum(g => g.Parameters.Count) == 0) throw new ArgumentException($"{GetType().Name}: got an empty parameter list");
    }

    /// <summary>For wrappers (<see cref="Lookahead"/>): the same group objects as
    /// <paramref name="inner"/>, so a schedule that sets a group's lr on the wrapper sets it for the
    /// inner optimizer.</summary>
    protected Optimizer(Optimizer inner)
    {
        DefaultOptions = inner.DefaultOptions;
        foreach (var g in inner._groups) AdoptParamGroup(g);
    }

    /// <summary>Adds a group (add_param_group): its options are the defaults changed by the spec's Configure.</summary>
    public virtual ParamGroup AddParamGroup(ParamGroupSpec spec)
    {
        var parameters = spec.Parameters.ToList();
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var p in parameters)
        {
            if (p is null) throw new ArgumentNullException(nameof(spec), "a parameter group holds null");
            if (!seen.Add(p)) throw new ArgumentException($"{GetType().Name}: a parameter appears twice in one group ({p.Describe()})");
            if (_all.Contains(p)) throw new ArgumentException($"{GetType().Name}: a parameter appears in more than one group ({p.Describe()})");
            if (!p.IsLeaf) throw new ArgumentException($"{GetType().Name} can't optimize a non-leaf tensor ({p.Describe()})");
            if (!p.IsFloatingPoint) throw new ArgumentException($"{GetType().Name} can only optimize floating-point tensors ({p.Describe()})");
        }
        var options = DefaultOptions.Clone();
        spec.Configure?.Invoke(options);
        options.Validate();
        if (double.IsNaN(options.InitialLearningRate)) options.InitialLearningRate = options.LearningRate;
        var group = new ParamGroup(parameters, options);
        AdoptParamGroup(group);
        return group;
    }

    /// <summary>Makes an existing group (a wrapped optimizer's) one of this optimizer's groups.</summary>
    protected void AdoptParamGroup(ParamGroup group)
    {
        _groups.Add(group);
        foreach (var p in group.Parameters) _all.Add(p);
    }

    /// <summary>Clears gradients: to none (the default, as PyTorch 2.x), or to zeros.</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var g in _groups)
            foreach (var p in g.Parameters)
            {
                if (setToNone) { p.ZeroGrad(); continue; }
                using var grad = p.Grad;
                grad?.Detach_().Zero_();
            }
    }

    /// <summary>One update of every parameter that has a gradient.</summary>
    public virtual void Step()
    {
        using var noGrad = Torch.NoGrad();
        using var scope = DisposeScope.Begin();
        foreach (var g in _groups) Update(g);
    }

    /// <summary>
    /// One update with a closure that zeroes the gradients, recomputes the loss, calls Backward
    /// and returns the loss. Returns the first loss value. Optimizers that need several
    /// evaluations (L-BFGS) override this.
    /// </summary>
    public virtual double Step(Func<Tensor> closure)
    {
        double loss;
        using (Torch.EnableGrad())
        using (var scope = DisposeScope.Begin())
            loss = closure().Item<double>();
        Step();
        return loss;
    }

    /// <summary>Updates one group's parameters (under no-grad, inside a dispose scope).</summary>
    protected abstract void Update(ParamGroup group);

    /// <summary>The path for a group: the requested one, or for Auto, Foreach when every parameter
    /// is on CUDA, Fused when every one is a contiguous float32/float64 CPU tensor (and the
    /// optimizer has a fused kernel), else Readable.</summary>
    protected unsafe Implementation Choose(ParamGroup group, bool hasFused, bool hasForeach)
    {
        var requested = Implementation;
        if (requested == Implementation.Fused && !hasFused) requested = Implementation.Readable;
        if (requested == Implementation.Foreach && !hasForeach) requested = Implementation.Readable;
        if (requested == Implementation.Foreach) return requested;
        bool allCuda = true, allCpuDense = true;
        int* info = stackalloc int[7];
        foreach (var p in group.Parameters)
        {
            Interop.Native.Check(Interop.Native.eng_tensor_info(p.Handle, info), "tensor info");
            bool cuda = info[1] == (int)DeviceType.CUDA;
            allCuda &= cuda;
            allCpuDense &= !cuda && info[5] != 0 && (info[0] == (int)ScalarType.Float32 || info[0] == (int)ScalarType.Float64);
        }
        if (requested == Implementation.Fused) return allCpuDense ? Implementation.Fused : Implementation.Readable;
        if (requested == Implementation.Readable) return requested;
        if (allCuda && hasForeach) return Implementation.Foreach;
        if (allCpuDense && hasFused) return Implementation.Fused;
        return Implementation.Readable;
    }

    /// <summary>What a fused kernel can do with a parameter's gradient.</summary>
    protected enum GradAccess { None, Dense, NotDense }

    /// <summary>
    /// The address of p.grad's memory for a fused CPU kernel, without creating a tensor:
    /// <see cref="GradAccess.None"/> when p has no gradient (skip it, as PyTorch does),
    /// <see cref="GradAccess.NotDense"/> when the gradient is not a contiguous tensor of p's dtype
    /// and size (take the readable path).
    /// </summary>
    protected static unsafe GradAccess GradForKernel(Tensor p, out nint data)
    {
        void* g = null;
        int rc = Interop.Native.Check(Interop.Native.eng_tensor_grad_data(p.Handle, &g), "grad");
        GC.KeepAlive(p);
        data = (nint)g;
        return rc switch { 0 => GradAccess.None, 1 => GradAccess.Dense, _ => GradAccess.NotDense };
    }

    readonly Dictionary<ParamGroup, ForeachLists> _lists = new(ReferenceEqualityComparer.Instance);

    /// <summary>The reusable multi-tensor lists of a group.</summary>
    internal ForeachLists Lists(ParamGroup group)
    {
        if (!_lists.TryGetValue(group, out var l)) _lists[group] = l = new ForeachLists(group.Parameters);
        return l;
    }

    /// <summary>The state of a parameter, created empty on first use.</summary>
    protected ParamState State(Tensor parameter)
    {
        if (!_state.TryGetValue(parameter, out var s)) _state[parameter] = s = new ParamState();
        return s;
    }

    /// <summary>The states that exist, by parameter (read-only view, e.g. for tests).</summary>
    public IReadOnlyDictionary<Tensor, ParamState> States => _state;

    /// <summary>
    /// Everything needed to resume: every group's hyperparameters and every parameter's state,
    /// keyed by the parameter's index across groups (as PyTorch's state_dict). Tensors are copies.
    /// </summary>
    public virtual OptimizerState StateDict()
    {
        var result = new OptimizerState();
        int index = 0;
        foreach (var g in _groups)
        {
            var indices = new List<int>();
            foreach (var p in g.Parameters)
            {
                if (_state.TryGetValue(p, out var s))
                {
                    var entry = new OptimizerState.Entry { Step = s.Step };
                    foreach (var (name, t) in s.Buffers) entry.Buffers[name] = t.Detach().Clone().DetachFromDisposeScope();
                    result.State[index] = entry;
                }
                indices.Add(index++);
            }
            result.Groups.Add(new OptimizerState.Group { Params = indices, Values = g.Options.Values().ToDictionary(v => v.Name, v => v.Value) });
        }
        return result;
    }

    /// <summary>Restores what <see cref="StateDict"/> saved; the groups must have the same sizes.</summary>
    public virtual void LoadStateDict(OptimizerState state)
    {
        if (state.Groups.Count != _groups.Count)
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: the saved state has {state.Groups.Count} parameter groups, this optimizer {_groups.Count}");
        for (int i = 0; i < _groups.Count; i++)
            if (state.Groups[i].Params.Count != _groups[i].Parameters.Count)
                throw new ArgumentException($"{GetType().Name}.LoadStateDict: group {i} has {_groups[i].Parameters.Count} parameters, the saved one {state.Groups[i].Params.Count}");
        foreach (var s in _state.Values) s.Dispose();
        _state.Clear();
        int index = 0;
        for (int i = 0; i < _groups.Count; i++)
        {
            foreach (var (name, value) in state.Groups[i].Values) _groups[i].Options.SetValue(name, value);
            foreach (var p in _groups[i].Parameters)
            {
                if (state.State.TryGetValue(index, out var entry))
                {
                    var s = State(p);
                    s.Step = entry.Step;
                    foreach (var (name, t) in entry.Buffers) s[name] = t.To(p.Device, t.DType, copy: true);
                }
                index++;
            }
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the state tensors; optimizers holding more (L-BFGS's history, a wrapped
    /// optimizer) free it too.</summary>
    protected virtual void Dispose(bool disposing)
    {
        foreach (var s in _state.Values) s.Dispose();
        _state.Clear();
    }
}

/// <summary>An optimizer's saved state (optimizer.state_dict()).</summary>
public sealed class OptimizerState : IDisposable
{
    public sealed class Entry
    {
        public long Step { get; set; }
        public Dictionary<string, Tensor> Buffers { get; } = new();
    }

    public sealed class Group
    {
        public List<int> Params { get; set; } = new();
        public Dictionary<string, double> Values { get; set; } = new();
    }

    public Dictionary<int, Entry> State { get; } = new();
    public List<Group> Groups { get; } = new();

    public void Dispose()
    {
        foreach (var e in State.Values)
            foreach (var t in e.Buffers.Values) t.Dispose();
    }
}
