namespace Engine.Schedules;

/// <summary>Whether the monitored metric should fall (a loss) or rise (an accuracy).</summary>
public enum PlateauMode { Min, Max }

/// <summary>How "better" is measured: relative to the best so far, or by an absolute margin.</summary>
public enum ThresholdMode { Rel, Abs }

/// <summary>
/// Reduce the learning rate on a plateau (torch.optim.lr_scheduler.ReduceLROnPlateau; Keras'
/// ReduceLROnPlateau callback in the seed): when the metric has not improved for more than
/// <see cref="Patience"/> steps, every group's lr is multiplied by <see cref="Factor"/>, not below
/// its minimum, then nothing is counted for <see cref="Cooldown"/> steps.
/// <code>
/// better(a):  Min/Rel a &lt; best·(1 − threshold)   Min/Abs a &lt; best − threshold
///             Max/Rel a > best·(1 + threshold)   Max/Abs a > best + threshold
/// step(metric): better → best = metric, bad = 0, else bad += 1;  in cooldown → cooldown −= 1, bad = 0
///               bad > patience → η ← max(η·factor, min_lr) for each group where that lowers η by
///               more than eps; cooldown = Cooldown; bad = 0
/// </code>
/// Keras counts patience differently: it reduces once patience bad epochs have passed (wait ≥
/// patience), PyTorch and this class after patience + 1. Not a pure function of the step, so it
/// is a scheduler only and does not compose. Its state holds its hyperparameters too, and
/// <see cref="LoadStateDict"/> restores them, as PyTorch's does. Checked against PyTorch 1.13
/// (schedules.json) and TorchSharp's torch.optim.lr_scheduler.ReduceLROnPlateau in process.
/// </summary>
public sealed class ReduceLROnPlateau : LRScheduler
{
    double[] _minLrs;

    /// <param name="minLr">The lowest lr of every group, unless <paramref name="minLrPerGroup"/> is given.</param>
    /// <param name="minLrPerGroup">The lowest lr of each group (PyTorch's min_lr list).</param>
    public ReduceLROnPlateau(torch.optim.Optimizer optimizer, PlateauMode mode = PlateauMode.Min, double factor = 0.1, int patience = 10,
        double threshold = 1e-4, ThresholdMode thresholdMode = ThresholdMode.Rel, int cooldown = 0, double minLr = 0,
        IReadOnlyList<double>? minLrPerGroup = null, double eps = 1e-8, StepEvery every = StepEvery.Epoch)
        : base(optimizer, every)
    {
        const string name = nameof(ReduceLROnPlateau);
        int groups = Last.Length;
        if (minLrPerGroup is not null)
        {
            if (minLrPerGroup.Count != groups)
                throw new ArgumentException($"{name}: {groups} parameter groups need {groups} minimum learning rates, got {minLrPerGroup.Count}", nameof(minLrPerGroup));
            foreach (var v in minLrPerGroup) Require.NonNegative(v, name, nameof(minLrPerGroup));
            _minLrs = minLrPerGroup.ToArray();
        }
        else
        {
            Require.NonNegative(minLr, name, nameof(minLr));
            _minLrs = Enumerable.Repeat(minLr, groups).ToArray();
        }
        Set(mode, factor, patience, threshold, thresholdMode, cooldown, eps);
        Best = WorstValue;
    }

    public PlateauMode Mode { get; private set; }
    public double Factor { get; private set; }
    public int Patience { get; private set; }
    public double Threshold { get; private set; }
    public ThresholdMode ThresholdMode { get; private set; }
    public int Cooldown { get; private set; }
    public double Eps { get; private set; }
    public IReadOnlyList<double> MinLearningRates => Array.AsReadOnly(_minLrs);

    /// <summary>The best metric so far (+∞ in Min mode, −∞ in Max mode before the first step).</summary>
    public double Best { get; private set; }
    /// <summary>Steps since the last improvement (num_bad_epochs).</summary>
    public int NumBadEpochs { get; private set; }
    /// <summary>Steps of cooldown left.</summary>
    public int CooldownCounter { get; private set; }
    public bool InCooldown => CooldownCounter > 0;

    double WorstValue => Mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;

    void Set(PlateauMode mode, double factor, int patience, double threshold, ThresholdMode thresholdMode, int cooldown, double eps)
    {
        const string name = nameof(ReduceLROnPlateau);
        if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, $"{name}: unknown mode {mode}");
        if (!Enum.IsDefined(thresholdMode)) throw new ArgumentOutOfRangeException(nameof(thresholdMode), thresholdMode, $"{name}: unknown threshold mode {thresholdMode}");
        if (!(factor >= 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), factor, $"{name}: factor must be in [0, 1), got {F(factor)}");
        Require.AtLeast(patience, 0, name, nameof(patience));
        Require.NonNegative(threshold, name, nameof(threshold));
        Require.AtLeast(cooldown, 0, name, nameof(cooldown));
        Require.NonNegative(eps, name, nameof(eps));
        (Mode, Factor, Patience, Threshold, ThresholdMode, Cooldown, Eps) = (mode, factor, patience, threshold, thresholdMode, cooldown, eps);
    }

    static string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    bool IsBetter(double a, double best) => (Mode, ThresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Rel) => a < best * (1.0 - Threshold),
        (PlateauMode.Min, ThresholdMode.Abs) => a < best - Threshold,
        (PlateauMode.Max, ThresholdMode.Rel) => a > best * (Threshold + 1.0),
        _ => a > best + Threshold,
    };

    /// <summary>One step with the monitored metric (a NaN counts as no improvement).</summary>
    public void Step(double metric)
    {
        var groups = Groups(nameof(Step));
        LastStep++;
        if (IsBetter(metric, Best))
        {
            Best = metric;
            NumBadEpochs = 0;
        }
        else NumBadEpochs++;

        if (InCooldown)
        {
            CooldownCounter--;
            NumBadEpochs = 0; // bad epochs in cooldown do not count
        }

        if (NumBadEpochs > Patience)
        {
            ReduceLr(groups);
            CooldownCounter = Cooldown;
            NumBadEpochs = 0;
        }
        for (int i = 0; i < Last.Length; i++) Last[i] = groups[i].LearningRate;
    }

    private protected override void StepOn(double? metric) =>
        Step(metric ?? throw new InvalidOperationException("ReduceLROnPlateau steps on a metric: call OnEpochEnd(metric) / OnBatchEnd(metric) with the value it monitors"));

    void ReduceLr(IReadOnlyList<torch.optim.ILearningRateController> groups)
    {
        for (int i = 0; i < groups.Count; i++)
        {
            double old = groups[i].LearningRate;
            double reduced = Math.Max(old * Factor, _minLrs[i]);
            if (old - reduced > Eps) groups[i].LearningRate = reduced;
        }
    }

    public override SchedulerState StateDict() => new()
    {
        Kind = nameof(ReduceLROnPlateau),
        LastStep = LastStep,
        LastLearningRates = Last.ToArray(),
        Values = new()
        {
            ["best"] = Best,
            ["num_bad_epochs"] = NumBadEpochs,
            ["cooldown_counter"] = CooldownCounter,
            ["mode"] = (double)Mode,
            ["factor"] = Factor,
            ["patience"] = Patience,
            ["threshold"] = Threshold,
            ["threshold_mode"] = (double)ThresholdMode,
            ["cooldown"] = Cooldown,
            ["eps"] = Eps,
        },
        MinLearningRates = _minLrs.ToArray(),
    };

    public override void LoadStateDict(SchedulerState state)
    {
        CheckState(state);
        double Get(string key) => state.Values.TryGetValue(key, out var v) ? v
            : throw new ArgumentException($"ReduceLROnPlateau.LoadStateDict: the state has no '{key}'", nameof(state));
        if (state.MinLearningRates.Length != _minLrs.Length)
            throw new ArgumentException($"ReduceLROnPlateau.LoadStateDict: the state must have one minimum lr per group ({_minLrs.Length})", nameof(state));
        Set((PlateauMode)(int)Get("mode"), Get("factor"), checked((int)Get("patience")), Get("threshold"), (ThresholdMode)(int)Get("threshold_mode"),
            checked((int)Get("cooldown")), Get("eps"));
        foreach (var v in state.MinLearningRates) Require.NonNegative(v, nameof(ReduceLROnPlateau), "min_lrs");
        _minLrs = state.MinLearningRates.ToArray();
        Best = Get("best");
        NumBadEpochs = checked((int)Get("num_bad_epochs"));
        CooldownCounter = checked((int)Get("cooldown_counter"));
        LastStep = state.LastStep;
        state.LastLearningRates.CopyTo(Last, 0);
        var groups = Groups(nameof(LoadStateDict));
        for (int i = 0; i < Last.Length; i++) groups[i].LearningRate = Last[i];
    }
}
