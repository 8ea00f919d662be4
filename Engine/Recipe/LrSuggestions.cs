namespace Engine.Recipe;

/// <summary>
/// fastai's learning-rate suggestions from a range test's (lr, smoothed loss) curve
/// (fastai/callback/schedule.py: <c>valley</c>, <c>steep</c>, <c>minimum</c>; docs.fast.ai,
/// "callback.schedule", lr_find), written from that source. Each takes the curve fastai hands
/// them: the points after the first tenth of the requested steps and before the last five, cut
/// at the first NaN loss (<see cref="LrFinderResult"/> does that trimming).
/// </summary>
public static class LrSuggestions
{
    /// <summary>
    /// fastai's default, "valley": the longest strictly decreasing run of the loss (longest
    /// decreasing subsequence ending at each point, lds[i] = 1 + max lds[j] over j &lt; i with
    /// loss[j] &gt; loss[i]); with max_end the point ending the longest one and max_start =
    /// max_end − lds[max_end], sections = (max_end − max_start)/3 and the suggestion is
    /// lrs[max_start + ⌊sections⌋ + ⌊sections/2⌋], about half-way down the valley. As in fastai
    /// max_start is one before the run's first point; an index of −1 (which Python would read
    /// as the last point) is clamped to 0 here.
    /// </summary>
    public static double Valley(IReadOnlyList<double> lrs, IReadOnlyList<double> losses)
    {
        CheckCurve(lrs, losses, "LrSuggestions.Valley");
        int n = losses.Count;
        int maxStart = 0, maxEnd = 0;
        var lds = Enumerable.Repeat(1, n).ToArray();
        for (int i = 1; i < n; i++)
            for (int j = 0; j < i; j++)
            {
                if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
                if (lds[maxEnd] < lds[i]) { maxEnd = i; maxStart = maxEnd - lds[maxEnd]; }
            }
        double sections = (maxEnd - maxStart) / 3.0;
        int idx = maxStart + (int)sections + (int)(sections / 2);
        return lrs[Math.Clamp(idx, 0, n - 1)];
    }

    /// <summary>fastai's "steep": the lr where the loss falls fastest against log lr,
    /// lrs[argmin_i (loss[i+1] − loss[i]) / (ln lr[i+1] − ln lr[i])] (the left point).</summary>
    public static double Steepest(IReadOnlyList<double> lrs, IReadOnlyList<double> losses)
    {
        CheckCurve(lrs, losses, "LrSuggestions.Steepest");
        if (lrs.Count < 2) throw new ArgumentException("LrSuggestions.Steepest: needs at least 2 points");
        int best = 0; double bestSlope = double.PositiveInfinity;
        for (int i = 0; i + 1 < lrs.Count; i++)
        {
            double slope = (losses[i + 1] - losses[i]) / (Math.Log(lrs[i + 1]) - Math.Log(lrs[i]));
            if (slope < bestSlope) { bestSlope = slope; best = i; }
        }
        return lrs[best];
    }

    /// <summary>fastai's "minimum": a tenth of the lr at the lowest loss (a step back from the
    /// edge where training starts to diverge).</summary>
    public static double MinimumOverTen(IReadOnlyList<double> lrs, IReadOnlyList<double> losses)
    {
        CheckCurve(lrs, losses, "LrSuggestions.MinimumOverTen");
        int best = 0;
        for (int i = 1; i < losses.Count; i++) if (losses[i] < losses[best]) best = i;
        return lrs[best] / 10;
    }

    static void CheckCurve(IReadOnlyList<double> lrs, IReadOnlyList<double> losses, string call)
    {
        ArgumentNullException.ThrowIfNull(lrs);
        ArgumentNullException.ThrowIfNull(losses);
        if (lrs.Count != losses.Count || lrs.Count == 0)
            throw new ArgumentException($"{call}: needs as many losses as learning rates, at least one (got {lrs.Count} and {losses.Count})");
        if (lrs.Any(lr => !(lr > 0)))
            throw new ArgumentException($"{call}: learning rates must be positive (log scale)");
    }
}
