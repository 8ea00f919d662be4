namespace Engine.Recipe;

/// <summary>How the range test's learning rate grows from start to end.</summary>
public enum LrSweep
{
    /// <summary>lr_i = start · (end/start)^(i/steps), fastai's SchedExp (the usual choice).</summary>
    Exponential,
    /// <summary>lr_i = start + (end − start) · i/steps, Smith (2015)'s linear sweep.</summary>
    Linear,
}

/// <summary>Settings of <see cref="LearningRateFinder.Run"/>; defaults are fastai's lr_find.</summary>
public sealed class LrFinderOptions
{
    /// <summary>First learning rate.</summary>
    public double StartLr { get; set; } = 1e-7;
    /// <summary>The rate the sweep heads to (reached at step <see cref="Steps"/>, one past the last).</summary>
    public double EndLr { get; set; } = 10;
    /// <summary>Steps (batches) of the sweep.</summary>
    public int Steps { get; set; } = 100;
    /// <summary>Exponential or linear.</summary>
    public LrSweep Sweep { get; set; } = LrSweep.Exponential;
    /// <summary>Smoothing: avg ← β·avg + (1 − β)·loss, smoothed = avg / (1 − β^t) (fastai's AvgSmoothLoss).</summary>
    public double Beta { get; set; } = 0.98;
    /// <summary>Stop once smoothed loss &gt; this × the best smoothed loss so far (fastai: 4).</summary>
    public double DivergenceFactor { get; set; } = 4;
    /// <summary>Stop on divergence (a non-finite loss always stops).</summary>
    public bool StopOnDivergence { get; set; } = true;
}

/// <summary>
/// The range test's curve and its suggestions. <see cref="LearningRates"/>, <see cref="Losses"/>
/// (smoothed) and <see cref="RawLosses"/> hold every step run; the suggestions use fastai's trimmed
/// curve (from step ⌊steps/10⌋, without the last 5 points, cut at the first NaN) and are null when
/// too few points remain.
/// </summary>
public sealed record LrFinderResult(IReadOnlyList<double> LearningRates, IReadOnlyList<double> Losses,
    IReadOnlyList<double> RawLosses, bool Diverged, double? Valley, double? Steepest, double? MinimumOverTen);

/// <summary>
/// The learning-rate range test (Smith, "Cyclical Learning Rates for Training Neural Networks",
/// 2015; fastai's <c>lr_find</c>, fastai/callback/schedule.py <c>LRFinder</c>): train for
/// <c>Steps</c> batches while the learning rate grows from <c>StartLr</c> towards <c>EndLr</c>,
/// record the exponentially smoothed loss, stop when it diverges, then suggest a rate
/// (<see cref="LrSuggestions"/>). Afterwards the model (parameters, buffers, mode) and the optimizer
/// (its state and every group's learning rate) are put back exactly as they were
/// (<see cref="StateSnapshot"/>); gradients are zeroed. Every param group is swept to the same lr.
/// The loss is read back every step: the divergence stop needs it (as fastai's does).
/// </summary>
public static class LearningRateFinder
{
    /// <summary>Runs the range test. <paramref name="optimizer"/> must derive from TorchSharp's
    /// OptimizerHelper (all TorchSharp and Engine optimizers do). <paramref name="plot"/>, when
    /// given, receives the result (e.g. to draw the curve as a PNG).</summary>
    public static LrFinderResult Run(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, Func<Tensor, Tensor, Tensor> loss,
        IEnumerable<(Tensor Input, Tensor Target)> batches, LrFinderOptions? options = null, Action<LrFinderResult>? plot = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(batches);
        var o = options ?? new LrFinderOptions();
        if (!(o.StartLr > 0 && o.EndLr > o.StartLr) || o.Steps < 2 || !(o.Beta >= 0 && o.Beta < 1) || !(o.DivergenceFactor > 1))
            throw new ArgumentException($"LearningRateFinder.Run: needs 0 < StartLr < EndLr (got {o.StartLr}, {o.EndLr}), Steps ≥ 2 (got {o.Steps}), Beta in [0, 1) (got {o.Beta}) and DivergenceFactor > 1 (got {o.DivergenceFactor})");

        var lrs = new List<double>(); var smoothed = new List<double>(); var raw = new List<double>();
        bool diverged = false;
        using (var snapshot = StateSnapshot.Capture(model, optimizer))
        {
            try
            {
                model.train();
                double avg = 0, best = double.PositiveInfinity;
                using var e = SanityChecks.Cycle(batches, "LearningRateFinder.Run").GetEnumerator();
                for (int i = 0; i < o.Steps; i++)
                {
                    using var scope = NewDisposeScope();
                    double lr = LearningRateAt(o, i);
                    foreach (var g in optimizer.ParamGroups) g.LearningRate = lr;
                    e.MoveNext();
                    var (x, y) = e.Current;
                    optimizer.zero_grad();
                    var l = loss(model.call(x), y);
                    l.backward();
                    optimizer.step();
                    double value = l.detach().to(ScalarType.Float64).item<double>();
                    avg = o.Beta * avg + (1 - o.Beta) * value;
                    double smooth = avg / (1 - Math.Pow(o.Beta, i + 1));
                    lrs.Add(lr); raw.Add(value); smoothed.Add(smooth);
                    if (!double.IsFinite(value) || !double.IsFinite(smooth)) { diverged = true; break; }
                    if (smooth < best) best = smooth;
                    if (o.StopOnDivergence && smooth > o.DivergenceFactor * best) { diverged = true; break; }
                }
            }
            finally { snapshot.Restore(); }
        }

        // fastai's lr_find: suggestions on lrs[num_it//10 : -5], cut at the first NaN.
        int from = o.Steps / 10, to = lrs.Count - 5;
        int firstNaN = smoothed.FindIndex(double.IsNaN);
        if (firstNaN >= 0) to = Math.Min(to, firstNaN);
        double? valley = null, steep = null, minimum = null;
        if (to - from >= 2)
        {
            var l = lrs.GetRange(from, to - from); var s = smoothed.GetRange(from, to - from);
            valley = LrSuggestions.Valley(l, s);
            steep = LrSuggestions.Steepest(l, s);
            minimum = LrSuggestions.MinimumOverTen(l, s);
        }
        var result = new LrFinderResult(lrs, smoothed, raw, diverged, valley, steep, minimum);
        plot?.Invoke(result);
        return result;
    }

    /// <summary>The sweep's learning rate at step i (0-based), fastai's position i/steps.</summary>
    public static double LearningRateAt(LrFinderOptions options, int step)
    {
        ArgumentNullException.ThrowIfNull(options);
        double pos = (double)step / options.Steps;
        return options.Sweep == LrSweep.Exponential
            ? options.StartLr * Math.Pow(options.EndLr / options.StartLr, pos)
            : options.StartLr + (options.EndLr - options.StartLr) * pos;
    }
}
