using TorchSharp.Modules;

namespace Engine.Precision;

/// <summary>
/// Mixed-precision training with float32 master weights (Micikevicius et al., 2018), built from
/// tensor ops because TorchSharp 0.107 has no autocast and no GradScaler. The model computes in a
/// low-precision dtype (bf16, or fp16 with a <see cref="LossScaler"/>); the optimizer steps float32
/// copies of its parameters:
/// <code>
/// y    = model(x.to(low))                 parameters in low precision; normalization layers in fp32
/// L    = loss(y.to(fp32))                 the model's output is upcast before the loss
/// backward(L · s)                         s = loss scale (1 without a scaler)
/// g_master ← g_low.to(fp32) · (1/s)       upcast and unscale
/// if any g_master is inf/NaN: skip the step, s ← s · backoff      (scaler only)
/// optimizer.step() on the fp32 masters;  w_low ← w_master.to(low)
/// </code>
/// Construction casts the model in place (<c>module.to(dtype)</c>), then puts every normalization
/// layer (<see cref="IsNormalization"/>: Engine.Normalization's and TorchSharp's BatchNorm,
/// LayerNorm, GroupNorm, InstanceNorm, RMSNorm, LocalResponseNorm) back to float32 with its
/// original values, and registers forward hooks: a normalization layer's input is cast to fp32 and
/// its output back to the low dtype (statistics of a batch are sums of many terms, which bf16's 8
/// mantissa bits would round badly); the model's input is cast to the low dtype and its output to
/// fp32. Hooks fire through <c>module.call(x)</c> (TorchSharp's Sequential calls its children that
/// way); a module that calls a child's <c>forward</c> directly, or uses functional normalization
/// (<c>F.layer_norm</c>) inside its own forward, bypasses them. Float32 parameters (those of kept
/// layers) are their own masters. Build the optimizer on <see cref="MasterParameters"/>, after
/// moving the model to its device (a later <c>module.to</c> replaces the Parameter objects).
/// <para>
/// bf16 needs no loss scaler (bf16 has float32's exponent range; see <see cref="LossScaler"/>),
/// so <see cref="Bf16"/> runs without one by default: <see cref="Step"/> then never reads the
/// device. With a scaler, <see cref="Step"/> takes one host sync per step, one float that says
/// whether to skip: TorchSharp's optimizers are C# loops that cannot be skipped by a device-side
/// select without undoing their state (Adam's moments and step count), and PyTorch's GradScaler
/// takes the same sync (<c>found_inf.item()</c> in <c>_maybe_opt_step</c>). The scale update
/// itself stays on the device.
/// </para>
/// <para>
/// Where it pays: on CUDA (tensor cores), untested here (no CUDA build can be restored on this
/// machine; the code path is device-agnostic tensor ops, exercised on CPU). On a CPU, libtorch's
/// bf16 and fp16 GEMMs are fast only with AVX-512 BF16/FP16 or AMX; on an AVX2-only CPU (this
/// machine's VM) they take a slow path and a bf16 training step is several times slower than fp32
/// (Engine.Bench/Precision/RESULTS.md): use it there for testing and memory, not speed. fp16
/// works on this CPU build (Linear, Conv2d, pooling, cross-entropy forward and backward). Model
/// gradients accumulate in the low dtype between <see cref="ZeroGrad"/> calls (gradient
/// accumulation over micro-batches rounds in bf16/fp16); an fp16 copy of a master beyond 65504
/// becomes inf.
/// </para>
/// Checked in Engine.Tests/Precision: bf16 training close to fp32, masters and normalization layers
/// fp32, skip on overflow, the scale sequence against a float64 reference, state round trip, memory.
/// </summary>
public sealed class MixedPrecision : IDisposable
{
    readonly nn.Module<Tensor, Tensor> _model;
    readonly List<Parameter> _params = new();   // the model's trainable parameters, after the cast
    readonly List<Parameter> _masters = new();  // fp32; _masters[i] is _params[i] when that is fp32
    readonly List<string> _names = new();
    readonly List<bool> _ownMaster = new();
    readonly List<Action> _hooks = new();   // removers
    readonly List<nn.Module> _float32Modules = new();
    bool _disposed;
    bool _unscaled;
    Tensor? _foundInf; // found_inf of the last UnscaleGradients, until Step reads it

    /// <summary>The dtype the model computes in: BFloat16 or Float16.</summary>
    public ScalarType ComputeDtype { get; }
    /// <summary>The loss scaler, or null (bf16's default).</summary>
    public LossScaler? Scaler { get; }
    /// <summary>The float32 parameters to build the optimizer on, in the order of the model's
    /// trainable <c>named_parameters()</c>.</summary>
    public IReadOnlyList<Parameter> MasterParameters => _masters;
    /// <summary><see cref="MasterParameters"/> with the model's parameter names.</summary>
    public IEnumerable<(string Name, Parameter Master)> NamedMasterParameters => _names.Zip(_masters);
    /// <summary>The modules kept in float32 (normalization layers by default).</summary>
    public IReadOnlyList<nn.Module> Float32Modules => _float32Modules;
    public nn.Module<Tensor, Tensor> Model => _model;

    /// <summary>bf16 compute with fp32 masters; no loss scaler unless one is given (e.g. to skip
    /// steps with non-finite gradients). Works on CPU and CUDA.</summary>
    public static MixedPrecision Bf16(nn.Module<Tensor, Tensor> model, LossScaler? scaler = null, Func<nn.Module, bool>? keepFloat32 = null) =>
        new(model, ScalarType.BFloat16, scaler, keepFloat32);

    /// <summary>fp16 compute with fp32 masters and a dynamic loss scaler (GradScaler's defaults on the
    /// device of the model's first parameter when none is given).</summary>
    public static MixedPrecision Fp16(nn.Module<Tensor, Tensor> model, LossScaler? scaler = null, Func<nn.Module, bool>? keepFloat32 = null) =>
        new(model, ScalarType.Float16, scaler ?? new LossScaler(device: FirstDevice(model)), keepFloat32);

    static Device FirstDevice(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var p in model.parameters()) return p.device;
        return CPU;
    }

    /// <summary>Normalization layers, which stay float32 by default: Engine.Normalization's and
    /// TorchSharp's BatchNorm1d/2d/3d, LayerNorm, GroupNorm, InstanceNorm1d/2d/3d, RMSNorm and
    /// LocalResponseNorm.</summary>
    public static bool IsNormalization(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (module is Normalization.BatchNorm or Normalization.LayerNorm or Normalization.GroupNorm
            or Normalization.InstanceNorm or Normalization.RMSNorm or Normalization.LocalResponseNorm)
            return true;
        var type = module.GetType();
        return type.Namespace == "TorchSharp.Modules" && type.Name.Contains("Norm", StringComparison.Ordinal);
    }

    MixedPrecision(nn.Module<Tensor, Tensor> model, ScalarType dtype, LossScaler? scaler, Func<nn.Module, bool>? keepFloat32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ComputeDtype = dtype;
        Scaler = scaler;
        _model = model;
        var keep = keepFloat32 ?? IsNormalization;

        foreach (var (name, p) in model.named_parameters())
            if (!p.is_floating_point())
                throw new ArgumentException($"MixedPrecision: parameter '{name}' is {p.dtype}; mixed precision needs floating-point parameters", nameof(model));

        foreach (var (name, m) in model.named_modules())
        {
            if (ReferenceEquals(m, model) || !keep(m)) continue;
            if (m is not nn.Module<Tensor, Tensor>)
                throw new ArgumentException($"MixedPrecision: module '{name}' ({m.GetType().Name}) is to stay float32, but only single-tensor modules (nn.Module<Tensor, Tensor>) can be cast at their boundaries", nameof(keepFloat32));
            _float32Modules.Add(m);
        }

        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            // The fp32 values before the cast: masters for the parameters that go low, and the
            // state of kept modules, which would otherwise come back from a round trip through bf16.
            var original = new Dictionary<string, Tensor>();
            foreach (var (name, p) in model.named_parameters())
                if (p.requires_grad) original[name] = p.detach().clone().to(ScalarType.Float32);
            var keptState = _float32Modules.Select(m => m.state_dict()
                .Where(kv => kv.Value.is_floating_point())
                .ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().to(ScalarType.Float32))).ToList();

            model.to(dtype);
            for (int k = 0; k < _float32Modules.Count; k++)
            {
                var m = _float32Modules[k];
                m.to(ScalarType.Float32);
                var now = m.state_dict();
                foreach (var (key, value) in keptState[k]) now[key].copy_(value);
            }

            foreach (var (name, p) in model.named_parameters())
            {
                if (!p.requires_grad) continue;
                bool own = p.dtype == ScalarType.Float32;
                _names.Add(name);
                _params.Add(p);
                _ownMaster.Add(own);
                _masters.Add(own ? p : new Parameter(original[name].DetachFromDisposeScope(), requires_grad: true));
            }
        }

        var low = dtype;
        foreach (var m in _float32Modules)
        {
            var module = (nn.Module<Tensor, Tensor>)m;
            var pre = module.register_forward_pre_hook((_, x) => Cast(x, ScalarType.Float32));
            _hooks.Add(pre.remove);
            var post = module.register_forward_hook((_, _, y) => y.is_floating_point() && y.dtype == ScalarType.Float32 ? y.to(low) : y);
            _hooks.Add(post.remove);
        }
        var rootPre = model.register_forward_pre_hook((_, x) => Cast(x, low));
        _hooks.Add(rootPre.remove);
        var rootPost = model.register_forward_hook((_, _, y) => Cast(y, ScalarType.Float32));
        _hooks.Add(rootPost.remove);
    }

    static Tensor Cast(Tensor x, ScalarType dtype) => x.is_floating_point() && x.dtype != dtype ? x.to(dtype) : x;

    /// <summary>A floating-point input in <see cref="ComputeDtype"/> (integer inputs, e.g. token ids,
    /// pass unchanged). <c>model.call</c> does this itself; this is for inputs fed some other way.</summary>
    public Tensor CastInput(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Cast(input, ComputeDtype);
    }

    /// <summary>backward of the loss in float32, times the loss scale when there is a scaler.</summary>
    public void Backward(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Check.FloatingPoint("MixedPrecision.Backward", loss, "loss");
        if (loss.numel() != 1)
            throw new ArgumentException($"MixedPrecision.Backward: the loss must be a scalar, got {Check.Shape(loss)}", nameof(loss));
        using var scope = NewDisposeScope();
        var scaled = Scaler is null ? loss.to(ScalarType.Float32) : Scaler.ScaleLoss(loss);
        scaled.backward();
    }

    /// <summary>
    /// Upcasts the model's gradients into the masters' <c>.grad</c> and, with a scaler, unscales
    /// them, checks them for inf/NaN and updates the scale (no host sync). After it the masters
    /// hold true gradients: clip them here (PyTorch's <c>scaler.unscale_(optimizer)</c>).
    /// <see cref="Step"/> calls it when it has not been called since the last step. A parameter
    /// without a gradient leaves its master without one, so the optimizer skips it as PyTorch's do.
    /// </summary>
    public void UnscaleGradients()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _foundInf?.Dispose();
        _foundInf = null;
        using var scope = NewDisposeScope();
        var grads = new List<Tensor>(_masters.Count);
        using (no_grad())
        {
            for (int i = 0; i < _params.Count; i++)
            {
                var g = _params[i].grad;
                var master = _masters[i];
                if (_ownMaster[i])
                {
                    if (g is not null) grads.Add(g);
                    continue;
                }
                if (g is null)
                {
                    if (master.grad is not null) master.grad = null;
                    continue;
                }
                var mg = master.grad;
                if (mg is null)
                {
                    master.grad = zeros_like(master);
                    mg = master.grad!;
                }
                mg.copy_(g);
                grads.Add(mg);
            }
            if (Scaler is not null)
            {
                var foundInf = Scaler.UnscaleGradients(grads);
                Scaler.Update(foundInf);
                _foundInf = foundInf.DetachFromDisposeScope();
            }
        }
        _unscaled = true;
    }

    /// <summary>
    /// Steps <paramref name="optimizer"/> (built on <see cref="MasterParameters"/>) on the
    /// unscaled master gradients (calling <see cref="UnscaleGradients"/> first unless it ran
    /// since the last step) and copies the masters back into the model. Returns false when the
    /// step was skipped for an inf/NaN gradient (the scale has then backed off).
    /// </summary>
    public bool Step(torch.optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_unscaled) UnscaleGradients();
        _unscaled = false;
        if (_foundInf is { } foundInf)
        {
            // The one host sync per step (see the class remarks): whether to skip.
            bool skip = foundInf.item<float>() > 0;
            foundInf.Dispose();
            _foundInf = null;
            if (skip) return false;
        }
        optimizer.step();
        CopyMastersToModel();
        return true;
    }

    /// <summary>w_low ← w_master for every parameter that has a separate master (after a step, a
    /// load, or a change the user made to the masters).</summary>
    public void CopyMastersToModel()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < _params.Count; i++)
            if (!_ownMaster[i]) _params[i].copy_(_masters[i]);
    }

    /// <summary>Zeroes the gradients of the model's parameters and of the masters, in place.</summary>
    public void ZeroGrad()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < _params.Count; i++)
        {
            _params[i].grad?.zero_();
            if (!_ownMaster[i]) _masters[i].grad?.zero_();
        }
    }

    /// <summary>The state a checkpoint needs besides the optimizer's: <c>master.{name}</c>, the fp32
    /// master weights (the model's own low-precision weights lose bits), and <c>scaler.{key}</c>,
    /// the <see cref="LossScaler.state_dict"/> when there is a scaler. CPU copies.</summary>
    public Dictionary<string, Tensor> state_dict()
    {
        var state = new Dictionary<string, Tensor>();
        using (no_grad())
            for (int i = 0; i < _masters.Count; i++)
                state["master." + _names[i]] = _masters[i].detach().clone().cpu().DetachFromDisposeScope();
        if (Scaler is not null)
            foreach (var (key, value) in Scaler.state_dict()) state["scaler." + key] = value;
        return state;
    }

    /// <summary>Restores <see cref="state_dict"/>'s output: masters (then the model from them) and the scaler.</summary>
    /// <exception cref="ArgumentException">A master is missing or has another shape; the scaler's state is missing or invalid.</exception>
    public void load_state_dict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        for (int i = 0; i < _masters.Count; i++)
        {
            string key = "master." + _names[i];
            if (!state.TryGetValue(key, out var value))
                throw new ArgumentException($"MixedPrecision.load_state_dict: key '{key}' missing", nameof(state));
            if (!value.shape.SequenceEqual(_masters[i].shape))
                throw new ArgumentException($"MixedPrecision.load_state_dict: '{key}' is {Check.Shape(value)}, the master is {Check.Shape(_masters[i])}", nameof(state));
        }
        if (Scaler is not null)
            Scaler.load_state_dict(state.Where(kv => kv.Key.StartsWith("scaler.", StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key["scaler.".Length..], kv => kv.Value));
        using (var scope = NewDisposeScope())
        using (no_grad())
            for (int i = 0; i < _masters.Count; i++)
                _masters[i].copy_(state["master." + _names[i]]);
        CopyMastersToModel();
    }

    /// <summary>Removes the hooks and frees the separate masters; the model stays in low precision.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var remove in _hooks) remove();
        _foundInf?.Dispose();
        for (int i = 0; i < _masters.Count; i++)
            if (!_ownMaster[i]) _masters[i].Dispose();
    }
}
