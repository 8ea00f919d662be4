namespace Engine.Schedules;

/// <summary>CyclicLR's built-in amplitude policies.</summary>
public enum CyclicMode
{
    /// <summary>A plain triangle: scale 1.</summary>
    Triangular,
    /// <summary>The amplitude halves every cycle: scale 1 / 2^(cycle − 1).</summary>
    Triangular2,
    /// <summary>The amplitude decays every step: scale γ^t.</summary>
    ExpRange,
}

/// <summary>What a custom scale function of CyclicLR is given: the cycle number or the step.</summary>
public enum CyclicScaleMode { Cycle, Iterations }

/// <summary>
/// Cyclical learning rates (Smith, 2017; torch.optim.lr_scheduler.CyclicLR): the lr goes up and
/// down between <see cref="BaseLr"/> and <see cref="MaxLr"/> in triangles of stepSizeUp +
/// stepSizeDown steps, the amplitude scaled by the mode's policy; the momentum moves the opposite
/// way between maxMomentum and baseMomentum.
/// <code>
/// cycle = ⌊1 + t / (up + down)⌋,  x = 1 + t / (up + down) − cycle,  r = up / (up + down)
/// s = x / r  if x ≤ r,  else (x − 1) / (r − 1)
/// η_t = base_lr + (max_lr − base_lr) · s · scale(cycle or t)
/// momentum_t = max_momentum − (max_momentum − base_momentum) · s · scale(cycle or t)
/// </code>
/// Absolute values: the group's own lr is not used (one schedule per group gives per-group bounds).
/// PyTorch 1.13 cycles momentum only for optimizers with a 'momentum' (SGD, RMSprop); here any
/// optimizer whose groups are <see cref="torch.optim.IMomentum"/> or <see cref="torch.optim.IBetas"/>
/// works (Adam's β₁, as PyTorch 2 does). Checked against PyTorch 1.13 (schedules.json), learning
/// rate and momentum. TorchSharp 0.107's CyclicLR is not the reference: it moves the momentum the
/// wrong way (max + height instead of max − height) and scales exp_range per cycle instead of per
/// step (see Engine.Tests' TorchSharpParityTests).
/// </summary>
public sealed class CyclicLR : Schedule
{
    readonly double _totalSize, _stepRatio;
    readonly Func<double, double>? _scaleFn;

    public CyclicLR(double baseLr, double maxLr, long stepSizeUp = 2000, long? stepSizeDown = null, CyclicMode mode = CyclicMode.Triangular,
        double gamma = 1.0, Func<double, double>? scaleFn = null, CyclicScaleMode scaleMode = CyclicScaleMode.Cycle,
        bool cycleMomentum = true, double baseMomentum = 0.8, double maxMomentum = 0.9)
    {
        const string name = nameof(CyclicLR);
        Require.NonNegative(baseLr, name, nameof(baseLr));
        Require.NonNegative(maxLr, name, nameof(maxLr));
        Require.AtLeast(stepSizeUp, 1, name, nameof(stepSizeUp));
        if (stepSizeDown is { } down) Require.AtLeast(down, 0, name, nameof(stepSizeDown));
        Require.Positive(gamma, name, nameof(gamma));
        Require.NonNegative(baseMomentum, name, nameof(baseMomentum));
        Require.NonNegative(maxMomentum, name, nameof(maxMomentum));
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, $"{name}: unknown mode {mode}");
        BaseLr = baseLr;
        MaxLr = maxLr;
        StepSizeUp = stepSizeUp;
        StepSizeDown = stepSizeDown ?? stepSizeUp;
        Mode = mode;
        Gamma = gamma;
        _scaleFn = scaleFn;
        // The built-in policies fix what they are given (PyTorch ignores scale_mode for them).
        ScaleMode = scaleFn is not null ? scaleMode : mode == CyclicMode.ExpRange ? CyclicScaleMode.Iterations : CyclicScaleMode.Cycle;
        CycleMomentum = cycleMomentum;
        BaseMomentum = baseMomentum;
        MaxMomentum = maxMomentum;
        _totalSize = (double)StepSizeUp + StepSizeDown;
        _stepRatio = StepSizeUp / _totalSize;
    }

    public double BaseLr { get; }
    public double MaxLr { get; }
    public long StepSizeUp { get; }
    public long StepSizeDown { get; }
    /// <summary>The built-in policy; ignored when a custom scale function is given.</summary>
    public CyclicMode Mode { get; }
    public double Gamma { get; }
    public CyclicScaleMode ScaleMode { get; }
    public bool CycleMomentum { get; }
    public double BaseMomentum { get; }
    public double MaxMomentum { get; }

    public override bool CyclesMomentum => CycleMomentum;

    double Scale(double x) => _scaleFn is not null ? _scaleFn(x) : Mode switch
    {
        CyclicMode.Triangular => 1.0,
        CyclicMode.Triangular2 => 1 / Math.Pow(2.0, x - 1),
        _ => Math.Pow(Gamma, x),
    };

    /// <summary>The position in the triangle (0 at the bottom, 1 at the top) and the amplitude's scale.</summary>
    (double Factor, double Scale) Shape(long step)
    {
        double cycle = Math.Floor(1 + step / _totalSize);
        double x = 1.0 + step / _totalSize - cycle;
        double factor = x <= _stepRatio ? x / _stepRatio : (x - 1) / (_stepRatio - 1);
        return (factor, Scale(ScaleMode == CyclicScaleMode.Cycle ? cycle : step));
    }

    protected internal override double At(long step, double baseLr)
    {
        var (factor, scale) = Shape(step);
        double height = (MaxLr - BaseLr) * factor;
        return BaseLr + height * scale;
    }

    protected internal override double? MomentumAt(long step)
    {
        if (!CycleMomentum) return null;
        var (factor, scale) = Shape(step);
        double height = (MaxMomentum - BaseMomentum) * factor;
        return MaxMomentum - height * scale;
    }

    public override string ToString() =>
        $"CyclicLR(baseLr: {F(BaseLr)}, maxLr: {F(MaxLr)}, stepSizeUp: {StepSizeUp}, stepSizeDown: {StepSizeDown}, " +
        (_scaleFn is null ? $"mode: {Mode}, gamma: {F(Gamma)}, " : $"scaleFn: <function>, scaleMode: {ScaleMode}, ") +
        $"cycleMomentum: {CycleMomentum}, baseMomentum: {F(BaseMomentum)}, maxMomentum: {F(MaxMomentum)})";
}
