using Engine.Plots;

namespace Engine.Recipe;

/// <summary>
/// The recipe's pictures as PNG files: what goes into the model (an image grid of the first
/// batch, captioned with the targets) and the learning-rate range test's curve with its
/// suggestions marked. Plug <see cref="BatchGrid"/> into <see cref="SanityOptions.ShowBatch"/> or
/// <c>SanityChecks.InspectBatch</c>, and <see cref="LrCurve"/> into <see cref="LearningRateFinder.Run"/>'s plot.
/// </summary>
public static class RecipePlots
{
    /// <summary>Saves up to <paramref name="count"/> images of an [N, C, H, W] batch (C = 1 or 3)
    /// as a grid, each captioned with its target (a class index, or a value).</summary>
    public static Action<Tensor, Tensor> BatchGrid(string path, int count = 32, int scale = 2) => (input, target) =>
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.dim() != 4 || input.shape[1] is not (1 or 3))
            throw new ArgumentException($"RecipePlots.BatchGrid: images are [N, 1 or 3, H, W], got {Check.Shape(input)}; only image batches can be drawn");
        using var scope = NewDisposeScope();
        long n = Math.Min(count, input.shape[0]);
        var images = input.narrow(0, 0, n).to(ScalarType.Float32).cpu();
        var labels = target.narrow(0, 0, n).cpu().reshape(n, -1).select(1, 0); // the first value of each target
        var captions = Enumerable.Range(0, (int)n).Select(i => labels.is_floating_point()
            ? labels[i].ToDouble().ToString("G3", System.Globalization.CultureInfo.InvariantCulture)
            : labels[i].ToInt64().ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        ImageGrid.Save(path, images, new ImageGridOptions { Columns = 8, Scale = scale, Captions = captions });
    };

    /// <summary>Saves the range test's smoothed loss against the learning rate (log x), with the
    /// suggestions as vertical marks.</summary>
    public static Action<LrFinderResult> LrCurve(string path) => result =>
    {
        ArgumentNullException.ThrowIfNull(result);
        var finite = result.LearningRates.Zip(result.Losses).Where(p => double.IsFinite(p.Second)).ToList();
        if (finite.Count == 0) throw new ArgumentException("RecipePlots.LrCurve: the range test recorded no finite loss");
        var chart = new LineChart("learning-rate range test", "log10(learning rate)", "smoothed loss");
        chart.Add("smoothed loss", finite.Select(p => Math.Log10(p.First)).ToList(), finite.Select(p => p.Second).ToList());
        double lo = finite.Min(p => p.Second), hi = finite.Max(p => p.Second);
        foreach (var (name, lr) in new[] { ("valley", result.Valley), ("steepest", result.Steepest), ("minimum/10", result.MinimumOverTen) })
            if (lr is double v && v > 0)
                chart.Add($"{name} {v:G2}", [Math.Log10(v), Math.Log10(v)], [lo, hi]);
        chart.Save(path);
    };
}
