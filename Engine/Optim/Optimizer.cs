namespace Engine.Optim;

/// <summary>
/// The base of Engine's optimizers: a TorchSharp <c>OptimizerHelper</c>, so an Engine optimizer
/// drops into TorchSharp code (<c>step()</c>, <c>zero_grad()</c>, <c>state_dict()</c>,
/// <c>load_state_dict()</c>, <c>save_state_dict(path)</c>, <c>add_param_group</c>) and
/// TorchSharp's schedulers drive it through <c>ParamGroups</c>.
/// <para>Parameter groups carry their own hyperparameters; per-parameter state holds named buffers
/// as PyTorch names them; parameters whose gradient is null are skipped, as in PyTorch. Each
/// optimizer writes its update once, readably, over tensors (<c>p, g, state</c>); the fused CPU
/// kernel and the flat-buffer path sit beside it and tests hold them equal.</para>
/// </summary>
public abstract class Optimizer : TorchSharp.Modules.OptimizerHelper
{
    readonly List<ParamGroup> _groups = new();
    readonly HashSet<IntPtr> _all = new();

    /// <summary>Engine's typed view of the parameter groups (TorchSharp's <c>ParamGroups</c> is the same list).</summary>
    public IReadOnlyList<ParamGroup> Groups => _groups;

    /// <summary>Which update path runs (Auto: fused on CPU, flat on CUDA).</summary>
    public Implementation Implementation { get; set; } = Implementation.Auto;

    /// <summary>The defaults new groups start from.</summary>
    public OptimizerOptions DefaultOptions => (OptimizerOptions)_defaults;

    protected Optimizer(IEnumerable<ParamGroupSpec> groups, OptimizerOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(groups);
        defaults.Validate();
        if (defaults.InitialLearningRate == 0) defaults.InitialLearningRate = defaults.Lr;
        _defaults = defaults;
        _parameter_groups = new List<TorchSharp.Modules.ParamGroup>();
        foreach (var g in groups) AddParamGroup(g);
        if (_groups.Sum(g => g.ParameterList.Count) == 0) throw new ArgumentException($"{GetType().Name}: got an empty parameter list");
    }

    /// <summary>For wrappers (Lookahead): the same group objects and states as
    /// <paramref name="inner"/>, so a schedule that sets a group's lr on the wrapper sets it for the
    /// inner optimizer.</summary>
    protected Optimizer(Optimizer inner)
    {
        _defaults = inner._defaults;
        _parameter_groups = inner._parameter_groups;
        _state = inner._state;
        _groups = inner._groups;
        _all = inner._all;
    }

    /// <summary>Adds a group (add_param_group): its options are the defaults changed by the spec's Configure.</summary>
    public ParamGroup AddParamGroup(ParamGroupSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var options = DefaultOptions.Clone();
        // initial_lr is the group's own lr (as TorchSharp's add_param_group and PyTorch's
        // schedulers set it), not the defaults', unless Configure sets it.
        options.InitialLearningRate = 0;
        spec.Configure?.Invoke(options);
        return AddGroup(spec.Parameters, options);
    }

    /// <summary>TorchSharp's add_param_group: a group with no options takes the defaults; a group
    /// with options must carry this optimizer's options type.</summary>
    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
    {
        ArgumentNullException.ThrowIfNull(param_group);
        OptimizerOptions options;
        if (param_group.Options is null) options = DefaultOptions.Clone();
        else if (param_group.Options is OptimizerOptions o && o.GetType() == DefaultOptions.GetType()) options = o;
        else throw new ArgumentException($"{GetType().Name}.add_param_group: the group's options are {param_group.Options.GetType().Name}, expected {DefaultOptions.GetType().Name} or none");
        options.LearningRate ??= DefaultOptions.Lr;
        AddGroup(param_group.Parameters ?? throw new ArgumentException($"{GetType().Name}.add_param_group: the group has no parameters"), options);
    }

    ParamGroup AddGroup(IEnumerable<Parameter> parameterSource, OptimizerOptions options)
    {
        var parameters = parameterSource.ToArray();
        var seen = new HashSet<IntPtr>();
        foreach (var p in parameters)
        {
            if (p is null) throw new ArgumentException($"{GetType().Name}: a parameter group holds null");
            if (p.IsInvalid) throw new ArgumentException($"{GetType().Name}: a parameter has been disposed");
            if (!seen.Add(p.Handle)) throw new ArgumentException($"{GetType().Name}: a parameter appears twice in one group ({Describe(p)})");
            if (_all.Contains(p.Handle)) throw new ArgumentException($"{GetType().Name}: a parameter appears in more than one group ({Describe(p)})");
            if (!p.is_leaf) throw new ArgumentException($"{GetType().Name} can't optimize a non-leaf tensor ({Describe(p)})");
            if (!p.is_floating_point()) throw new ArgumentException($"{GetType().Name} can only optimize floating-point tensors ({Describe(p)})");
        }
        options.Validate();
        if (options.InitialLearningRate == 0) options.InitialLearningRate = options.Lr;
        var group = ParamGroup.For(parameters, options);
        _groups.Add(group);
        _parameter_groups.Add(group);
        foreach (var p in parameters)
        {
            _all.Add(p.Handle);
            _state[p.Handle] = new ParamState(p);
        }
        return group;
    }

    /// <summary>"float32 [3, 4] on cpu": for error messages.</summary>
    protected static string Describe(Tensor t) => $"{t.dtype} [{string.Join(", ", t.shape)}] on {t.device}";

    /// <summary>Clears gradients to none (PyTorch 2.x's default); gradients that are views of a
    /// flat buffer are zeroed in place instead, so they stay views.</summary>
    public override void zero_grad() => zero_grad(setToNone: true);

    /// <summary>Clears gradients: to none, or to zeros in place.</summary>
    public virtual void zero_grad(bool setToNone)
    {
        foreach (var g in _groups)
        {
            bool flat = FlatOf(g) is not null;
            foreach (var p in g.Parameters)
            {
                if (setToNone && !flat) { p.grad = null; continue; }
                using var grad = p.grad;
                if (grad is null) continue;
                using (no_grad()) grad.zero_();
            }
        }
    }

    /// <summary>One update of every parameter that has a gradient. With a closure (which zeroes
    /// the gradients, recomputes the loss, calls backward and returns the loss), it is evaluated
    /// first under enable_grad and the loss is returned; L-BFGS calls it several times.</summary>
    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(Update, closure!);

    /// <summary>Updates one group's parameters (under no_grad, inside a dispose scope).</summary>
    protected abstract void Update(ParamGroup group);

    /// <summary>The state of a parameter (made when the parameter joined the optimizer).</summary>
    protected ParamState State(Parameter parameter) => (ParamState)_state[parameter.Handle];

    /// <summary>The states, by parameter handle (read-only view, e.g. for tests).</summary>
    public ParamState StateOf(Parameter parameter) => State(parameter);

    /// <summary>The path for a group: the requested one where the optimizer has it and the
    /// tensors allow it; for Auto, Flat when every parameter is on CUDA, Fused when every one is
    /// a contiguous float32/float64 CPU tensor, else Readable.</summary>
    protected Implementation Choose(ParamGroup group, bool hasFused, bool hasFlat)
    {
        var requested = Implementation;
        if (requested == Implementation.Readable) return requested;
        if (requested == Implementation.Flat) return hasFlat ? requested : Implementation.Readable;
        bool allCuda = true, allCpuDense = true;
        foreach (var p in group.Parameters)
        {
            bool isCuda = p.device_type == DeviceType.CUDA;
            allCuda &= isCuda;
            var dtype = p.dtype;
            allCpuDense &= !isCuda && p.is_contiguous() && (dtype == ScalarType.Float32 || dtype == ScalarType.Float64);
        }
        if (requested == Implementation.Fused) return hasFused && allCpuDense ? requested : Implementation.Readable;
        if (allCuda && hasFlat) return Implementation.Flat;
        if (allCpuDense && hasFused) return Implementation.Fused;
        return Implementation.Readable;
    }

    /// <summary>The readable update of one parameter whose gradient is <paramref name="g"/>,
    /// advancing its step: the per-parameter path, and the flat path's fallback.</summary>
    protected virtual void UpdateParameter(Parameter p, Tensor g, ParamGroup group) =>
        throw new NotSupportedException($"{GetType().Name} has no per-parameter update");

    /// <summary>The readable path: <see cref="UpdateParameter"/> for every parameter that has a
    /// gradient (the others are skipped, as in PyTorch).</summary>
    protected void UpdateEachParameter(ParamGroup group)
    {
        foreach (var p in group.Parameters)
        {
            using var g = p.grad;
            if (g is not null) UpdateParameter(p, g, group);
        }
    }

    /// <summary>The readable update run once over a whole flat bucket whose members are now all
    /// at <paramref name="step"/>.</summary>
    protected virtual void UpdateBucket(FlatGroup.Bucket bucket, long step, ParamGroup group) =>
        throw new NotSupportedException($"{GetType().Name} has no flat path");

    /// <summary>True when the step after <paramref name="step"/> must run per parameter even on an
    /// intact bucket (a first step that makes state per parameter, say).</summary>
    protected virtual bool NeedsPerParameterStep(FlatGroup.Bucket bucket, long step, ParamGroup group) => false;

    /// <summary>The flat path, the same frame for every optimizer that has one: per (dtype, device)
    /// bucket, one <see cref="UpdateBucket"/> when every member's gradient is still its view of the
    /// flat buffer and all members are at the same step; otherwise (a gradient replaced or missing,
    /// steps that differ) <see cref="UpdateParameter"/> for each member this once, then the
    /// gradients are pointed back at the flat buffer.</summary>
    protected void UpdateFlat(ParamGroup group)
    {
        foreach (var b in Flat(group).Buckets)
        {
            long t = State(b.Members[0]).Step;
            if (NeedsPerParameterStep(b, t, group) || !b.Intact(t))
            {
                foreach (var p in b.Members)
                {
                    using var g = p.grad;
                    if (g is not null) UpdateParameter(p, g, group);
                }
                b.Reattach();
                continue;
            }
            foreach (var p in b.Members) State(p).Step = t + 1;
            UpdateBucket(b, t + 1, group);
        }
    }

    readonly Dictionary<ParamGroup, FlatGroup> _flat = new(ReferenceEqualityComparer.Instance);

    /// <summary>The group's flat buffers, made on first use: from then on the group's parameters
    /// and gradients are views of them.</summary>
    protected FlatGroup Flat(ParamGroup group)
    {
        if (!_flat.TryGetValue(group, out var f)) _flat[group] = f = new FlatGroup(group, s => (ParamState)_state[s.Handle]);
        return f;
    }

    /// <summary>The group's flat buffers if it has been flattened.</summary>
    protected FlatGroup? FlatOf(ParamGroup group) => _flat.TryGetValue(group, out var f) ? f : null;

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        foreach (var f in _flat.Values) f.Dispose();
        _flat.Clear();
        foreach (var s in _state.Values) (s as IDisposable)?.Dispose();
    }
}
