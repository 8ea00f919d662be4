namespace Engine.Averaging;

/// <summary>How <see cref="ExponentialMovingAverage"/> warms its decay up over the first updates.</summary>
public enum EmaWarmup
{
    /// <summary>No warmup, PyTorch 2.x's <c>AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(d))</c>:
    /// the first update copies the model (its <c>n_averaged == 0</c> branch), every later one uses d.</summary>
    None = 0,
    /// <summary>TensorFlow's <c>tf.train.ExponentialMovingAverage(decay, num_updates)</c>:
    /// d_t = min(d, (1 + t) / (10 + t)), t = updates already made (0.1 at the first update, 0.5 at t = 8).</summary>
    NumUpdates = 1,
    /// <summary>timm's ModelEmaV3 <c>use_warmup</c> (from Keras/optax-style power warmup):
    /// d_t = 0 at t = 0 (a copy), then clamp(1 − (1 + t/γ)^(−p), 0, d).</summary>
    Power = 2,
}

/// <summary>
/// Exponential moving average of a model's weights (Polyak-style averaging; the "EMA model" of
/// timm, TensorFlow and PyTorch's <c>torch.optim.swa_utils</c>): after each optimizer step,
/// <code>
/// θ_ema ← d_t · θ_ema + (1 − d_t) · θ          (one in-place lerp per tensor: θ_ema.lerp_(θ, 1 − d_t))
/// </code>
/// with the decay d_t from <see cref="Warmup"/> (<see cref="DecayAt"/>): constant d after a first copy
/// (PyTorch 2.x <c>get_ema_multi_avg_fn</c>), TensorFlow's num_updates warmup
/// min(d, (1 + t)/(10 + t)) (the default: early averages are not dominated by the random
/// initialisation), or timm ModelEmaV3's power warmup. The average starts as a copy of the model,
/// as <c>AveragedModel</c>'s deep copy. With <c>useBuffers</c> the floating buffers (BatchNorm's running
/// statistics) are averaged too and integer buffers copied (timm ModelEmaV2/V3; PyTorch's
/// <c>use_buffers=True</c>); without, evaluate the EMA weights with the model's own buffers or
/// recompute them with <c>StochasticWeightAveraging.UpdateBatchNorm</c>.
/// <para>
/// A training loop calls <see cref="WeightAverage.Update"/> after each <c>optimizer.step()</c> and evaluates
/// between <see cref="WeightAverage.Apply"/> and <see cref="WeightAverage.Restore"/>. No host sync: the
/// decay is computed on the host from the update count, and the lerp weight is filled on the
/// tensor's device (<c>torch.full</c>, a kernel with a scalar argument; TorchSharp's lerp_ takes only
/// a tensor weight). Checked against a float64 recursion written in the test, for every warmup.
/// </para>
/// </summary>
public sealed class ExponentialMovingAverage : WeightAverage
{
    readonly Dictionary<(ScalarType, string), Tensor> _weights = new();
    double _decayNow;

    /// <param name="model">The model whose weights are averaged (the average starts as a copy).</param>
    /// <param name="decay">d in [0, 1): the weight of the old average (timm's default 0.9998, TF's 0.999).</param>
    /// <param name="warmup">How d ramps up over the first updates; TensorFlow's num_updates rule by default.</param>
    /// <param name="useBuffers">Average floating buffers too (BatchNorm statistics), copy integer ones.</param>
    /// <param name="warmupGamma">γ of <see cref="EmaWarmup.Power"/> (timm: 1).</param>
    /// <param name="warmupPower">p of <see cref="EmaWarmup.Power"/> (timm: 2/3; 3/4 for short runs).</param>
    public ExponentialMovingAverage(nn.Module model, double decay = 0.999, EmaWarmup warmup = EmaWarmup.NumUpdates,
        bool useBuffers = false, double warmupGamma = 1.0, double warmupPower = 2.0 / 3.0)
        : base(nameof(ExponentialMovingAverage), Checked(model, decay, warmup, warmupGamma, warmupPower), useBuffers)
    {
        Decay = decay;
        Warmup = warmup;
        WarmupGamma = warmupGamma;
        WarmupPower = warmupPower;
    }

    static nn.Module Checked(nn.Module model, double decay, EmaWarmup warmup, double gamma, double power)
    {
        const string name = nameof(ExponentialMovingAverage);
        if (!(decay >= 0 && decay < 1))
            throw new ArgumentOutOfRangeException(nameof(decay), decay, $"{name}: decay must lie in [0, 1), got {F(decay)} (d = 1 would never move the average; a value like 0.999 keeps about the last 1/(1 − d) = 1000 updates)");
        if (warmup is not (EmaWarmup.None or EmaWarmup.NumUpdates or EmaWarmup.Power))
            throw new ArgumentOutOfRangeException(nameof(warmup), warmup, $"{name}: unknown warmup {warmup}");
        if (!(double.IsFinite(gamma) && gamma > 0))
            throw new ArgumentOutOfRangeException("warmupGamma", gamma, $"{name}: warmupGamma must be finite and > 0, got {F(gamma)}");
        if (!(double.IsFinite(power) && power > 0))
            throw new ArgumentOutOfRangeException("warmupPower", power, $"{name}: warmupPower must be finite and > 0, got {F(power)}");
        return model;
    }

    /// <summary>d: the decay after warmup.</summary>
    public double Decay { get; }
    public EmaWarmup Warmup { get; }
    public double WarmupGamma { get; }
    public double WarmupPower { get; }

    /// <summary>The decay d_t of the update made after <paramref name="updatesBefore"/> = t earlier updates.</summary>
    public double DecayAt(long updatesBefore)
    {
        if (updatesBefore < 0) throw new ArgumentOutOfRangeException(nameof(updatesBefore), updatesBefore, $"{Name}.DecayAt: the update count must be >= 0");
        double t = updatesBefore;
        return Warmup switch
        {
            EmaWarmup.None => updatesBefore == 0 ? 0.0 : Decay,
            EmaWarmup.NumUpdates => Math.Min(Decay, (1 + t) / (10 + t)),
            _ => updatesBefore == 0 ? 0.0 : Math.Clamp(1 - Math.Pow(1 + t / WarmupGamma, -WarmupPower), 0.0, Decay),
        };
    }

    private protected override void BeginUpdate(long updatesBefore)
    {
        _decayNow = DecayAt(updatesBefore);
        _weights.Clear(); // the previous update's weight tensors died with its dispose scope
    }

    private protected override void UpdateOne(Tensor average, Tensor value, long updatesBefore)
    {
        if (_decayNow == 0) { average.copy_(value); return; }
        var key = (average.dtype, average.device.ToString());
        if (!_weights.TryGetValue(key, out var weight))
            _weights[key] = weight = full(Array.Empty<long>(), 1 - _decayNow, dtype: average.dtype, device: average.device);
        average.lerp_(value, weight); // θ_ema + (1 − d)(θ − θ_ema) = d·θ_ema + (1 − d)·θ
    }

    public override string ToString() =>
        $"ExponentialMovingAverage(decay: {F(Decay)}, warmup: {Warmup}{(Warmup == EmaWarmup.Power ? $" γ {F(WarmupGamma)} p {F(WarmupPower)}" : "")}, useBuffers: {UseBuffers})";
}
