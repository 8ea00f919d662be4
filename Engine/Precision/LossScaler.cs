namespace Engine.Precision;

/// <summary>
/// Dynamic loss scaling (Micikevicius et al., 2018, "Mixed Precision Training"), with the
/// semantics of PyTorch's <c>torch.cuda.amp.GradScaler</c> (TorchSharp 0.107 has none). fp16's
/// smallest normal is 6.1e-5 and its largest 65504: small gradients underflow to zero unless the
/// loss, and with it every gradient, is multiplied by a scale s before backward; the optimizer then
/// sees the gradients unscaled by 1/s. s is chosen dynamically:
/// <code>
/// loss_scaled = loss · s                                  before backward
/// g ← g · (1/s)                                           (1/s computed in float64, stored as float32)
/// found_inf = any(g is inf or NaN)                        checked on the scaled gradients
/// if found_inf:  skip the optimizer step;  s ← s · backoff_factor;  tracker ← 0
/// else:          tracker ← tracker + 1
///                if tracker = growth_interval:  s ← s · growth_factor (only if finite in float32);  tracker ← 0
/// </code>
/// Defaults are GradScaler's: init_scale 2^16, growth_factor 2, backoff_factor 0.5,
/// growth_interval 2000. s is a float32 tensor of shape [1] and the growth tracker an int32 tensor
/// of shape [1] on the gradients' device, as in PyTorch's <c>_amp_update_scale_</c>, and
/// <see cref="Update(Tensor)"/> runs on the device with no host sync (a select instead of a branch).
/// The update rule is checked against a float64 reference written from PyTorch's documented
/// <c>_amp_update_scale_</c> in Engine.Tests/Precision/LossScalerTests.cs.
/// <para>bf16 needs no scaler: it has float32's 8-bit exponent (smallest normal 1.2e-38), so
/// gradients that fit float32 do not underflow or overflow in bf16; it loses mantissa bits, not
/// range.</para>
/// </summary>
public sealed class LossScaler : IDisposable
{
    readonly Tensor _scale;          // float32 [1]
    readonly Tensor _growthTracker;  // int32 [1]

    /// <summary>Multiplier of the scale after <see cref="GrowthInterval"/> clean steps in a row.</summary>
    public double GrowthFactor { get; private set; }
    /// <summary>Multiplier of the scale after a step with an inf or NaN gradient.</summary>
    public double BackoffFactor { get; private set; }
    /// <summary>Consecutive clean steps before the scale grows.</summary>
    public long GrowthInterval { get; private set; }
    public Device Device { get; }

    /// <exception cref="ArgumentOutOfRangeException">init_scale ≤ 0 or not finite, growth_factor ≤ 1,
    /// backoff_factor outside (0, 1), growth_interval ≤ 0 (GradScaler's own checks).</exception>
    public LossScaler(double init_scale = 65536.0, double growth_factor = 2.0, double backoff_factor = 0.5,
        long growth_interval = 2000, Device? device = null)
    {
        CheckConfig("LossScaler", init_scale, growth_factor, backoff_factor, growth_interval);
        GrowthFactor = growth_factor;
        BackoffFactor = backoff_factor;
        GrowthInterval = growth_interval;
        Device = device ?? CPU;
        _scale = full(1, init_scale, ScalarType.Float32, Device).DetachFromDisposeScope();
        _growthTracker = zeros(1, ScalarType.Int32, Device).DetachFromDisposeScope();
    }

    static void CheckConfig(string call, double initScale, double growth, double backoff, long interval)
    {
        if (!(initScale > 0) || !double.IsFinite(initScale) || initScale > float.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(initScale), initScale, $"{call}: init_scale must be a positive finite float32 value");
        if (!(growth > 1.0) || !double.IsFinite(growth))
            throw new ArgumentOutOfRangeException(nameof(growth), growth, $"{call}: growth_factor must be finite and > 1");
        if (!(backoff > 0 && backoff < 1.0))
            throw new ArgumentOutOfRangeException(nameof(backoff), backoff, $"{call}: backoff_factor must lie in (0, 1)");
        if (interval <= 0 || interval > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(interval), interval, $"{call}: growth_interval must be a positive int32");
    }

    /// <summary>The scale s, a float32 tensor of shape [1] on <see cref="Device"/> (live: updated in place).</summary>
    public Tensor Scale => _scale;
    /// <summary>Consecutive clean steps since the last growth or backoff, int32 [1] (live).</summary>
    public Tensor GrowthTracker => _growthTracker;

    /// <summary>The scale as a number. Reads the device: call it at logging points, not per step.</summary>
    public double GetScale() => _scale.ToSingle();
    /// <summary>The growth tracker as a number (reads the device).</summary>
    public int GetGrowthTracker() => _growthTracker.ToInt32();

    /// <summary>loss · s (any shape), in float32 (a low-precision loss is upcast first, so the product cannot overflow fp16).</summary>
    public Tensor ScaleLoss(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Check.FloatingPoint("LossScaler.ScaleLoss", loss, "loss");
        return loss.to(ScalarType.Float32).mul(_scale.to(loss.device).squeeze());
    }

    /// <summary>1/s as GradScaler computes it: the reciprocal in float64, then float32. Shape [1].</summary>
    public Tensor InverseScale() => _scale.to(ScalarType.Float64).reciprocal().to(ScalarType.Float32);

    /// <summary>
    /// GradScaler's <c>unscale_</c> on floating-point gradients, in place: found_inf is 1 when any
    /// element of any gradient is inf or NaN BEFORE unscaling (as <c>_amp_foreach_non_finite_check_and_unscale_</c>),
    /// then every gradient is multiplied by 1/s. Returns found_inf, float32 [1] on <see cref="Device"/>; no host sync.
    /// </summary>
    public Tensor UnscaleGradients(IEnumerable<Tensor> gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var finite = new List<Tensor>();
        var inv = InverseScale();
        var grads = gradients.ToList();
        foreach (var g in grads)
        {
            if (!g.is_floating_point())
                throw new ArgumentException($"LossScaler.UnscaleGradients: gradients must be floating point, got {g.dtype} {Check.Shape(g)}", nameof(gradients));
            finite.Add(g.isfinite().all().to(Device));
        }
        var foundInf = finite.Count == 0
            ? zeros(1, ScalarType.Float32, Device)
            : stack(finite).all().logical_not().to(ScalarType.Float32).reshape(1);
        foreach (var g in grads) g.mul_(inv.to(g.dtype, g.device).squeeze());
        return foundInf.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// PyTorch's <c>_amp_update_scale_</c> on the device: backoff when <paramref name="found_inf"/> &gt; 0,
    /// otherwise count the clean step and grow after <see cref="GrowthInterval"/> of them (unless
    /// s · growth_factor overflows float32). Products are taken in float64 and stored in float32,
    /// as the kernel multiplies a float by a double.
    /// </summary>
    public void Update(Tensor found_inf)
    {
        ArgumentNullException.ThrowIfNull(found_inf);
        if (found_inf.numel() != 1)
            throw new ArgumentException($"LossScaler.Update: found_inf must hold one element, got {Check.Shape(found_inf)}", nameof(found_inf));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var found = found_inf.to(Device).reshape(1).to(ScalarType.Float32).gt(0);
        var scale64 = _scale.to(ScalarType.Float64);
        var backedOff = scale64.mul(BackoffFactor).to(ScalarType.Float32);
        var grown = scale64.mul(GrowthFactor).to(ScalarType.Float32);
        var successful = _growthTracker.add(1);
        var reachedInterval = successful.eq(GrowthInterval);
        var grow = reachedInterval.logical_and(grown.isfinite());
        var newScale = where(found, backedOff, where(grow, grown, _scale));
        var newTracker = where(found.logical_or(reachedInterval), zeros_like(successful), successful);
        _scale.copy_(newScale);
        _growthTracker.copy_(newTracker);
    }

    /// <summary>Sets the scale by hand (GradScaler's <c>update(new_scale)</c>); the tracker is kept.</summary>
    public void Update(double new_scale)
    {
        if (!(new_scale > 0) || !double.IsFinite(new_scale) || new_scale > float.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(new_scale), new_scale, "LossScaler.Update: new_scale must be a positive finite float32 value");
        _scale.fill_(new_scale);
    }

    /// <summary>GradScaler's state_dict keys: scale (float32 [1]), growth_factor, backoff_factor
    /// (float64 scalars), growth_interval (int64 scalar), _growth_tracker (int32 [1]); tensors on
    /// the CPU, copies (no host sync on CUDA beyond the copy), ready for <see cref="Checkpoints.SafeTensors"/>.</summary>
    public Dictionary<string, Tensor> state_dict() => new()
    {
        ["scale"] = _scale.detach().clone().cpu().DetachFromDisposeScope(),
        ["growth_factor"] = tensor(GrowthFactor, ScalarType.Float64).DetachFromDisposeScope(),
        ["backoff_factor"] = tensor(BackoffFactor, ScalarType.Float64).DetachFromDisposeScope(),
        ["growth_interval"] = tensor(GrowthInterval, ScalarType.Int64).DetachFromDisposeScope(),
        ["_growth_tracker"] = _growthTracker.detach().clone().cpu().DetachFromDisposeScope(),
    };

    /// <summary>Restores <see cref="state_dict"/>'s output (configuration included, as GradScaler does).</summary>
    /// <exception cref="ArgumentException">A key is missing or a value has the wrong size or an invalid value.</exception>
    public void load_state_dict(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        Tensor Get(string key)
        {
            if (!state.TryGetValue(key, out var t))
                throw new ArgumentException($"LossScaler.load_state_dict: key '{key}' missing (have: {string.Join(", ", state.Keys)})", nameof(state));
            if (t.numel() != 1)
                throw new ArgumentException($"LossScaler.load_state_dict: '{key}' must hold one element, got {Check.Shape(t)}", nameof(state));
            return t;
        }
        double scale = Get("scale").ToDouble();
        double growth = Get("growth_factor").ToDouble();
        double backoff = Get("backoff_factor").ToDouble();
        long interval = Get("growth_interval").ToInt64();
        long tracker = Get("_growth_tracker").ToInt64();
        CheckConfig("LossScaler.load_state_dict", scale, growth, backoff, interval);
        if (tracker < 0 || tracker >= interval)
            throw new ArgumentException($"LossScaler.load_state_dict: _growth_tracker {tracker} must lie in [0, growth_interval = {interval})", nameof(state));
        GrowthFactor = growth;
        BackoffFactor = backoff;
        GrowthInterval = interval;
        _scale.fill_(scale);
        _growthTracker.fill_(tracker);
    }

    public void Dispose()
    {
        _scale.Dispose();
        _growthTracker.Dispose();
    }
}
