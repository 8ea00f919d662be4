using System.Globalization;
using Engine.Checkpoints;

namespace Engine.Plots;

/// <summary>A corner of the plot area, for the legend.</summary>
public enum LegendCorner { LowerRight, UpperRight, UpperLeft, LowerLeft }

/// <summary>
/// A line chart of named series written as a PNG (ScottPlot 5, rendered headless through SkiaSharp):
/// title, axis labels, a legend, and optionally a logarithmic y axis. ScottPlot 5 has no log axis;
/// as its cookbook does ("Log Scale" recipe), the chart plots log10(y) and labels the ticks with the
/// values they stand for (10ᵏ, and 2·10ᵏ, 5·10ᵏ when the data spans two decades or fewer), minor
/// ticks at the other m·10ᵏ. Training curves are the use:
/// <code>
/// new LineChart("Loss", "epoch", "loss", logY: true).Add("train", trainLoss).Add("validation", valLoss).Save("loss.png");
/// </code>
/// Bad data (an empty series, NaN or infinity, y ≤ 0 on a log axis, x and y of different lengths)
/// throws <see cref="ArgumentException"/> when the series is added, naming the series and the point.
/// </summary>
public sealed class LineChart
{
    readonly List<(string Name, double[] X, double[] Y)> series = [];

    public LineChart(string title, string xLabel, string yLabel, bool logY = false)
    {
        Title = title ?? throw new ArgumentNullException(nameof(title));
        XLabel = xLabel ?? throw new ArgumentNullException(nameof(xLabel));
        YLabel = yLabel ?? throw new ArgumentNullException(nameof(yLabel));
        LogY = logY;
    }

    public string Title { get; }
    public string XLabel { get; }
    public string YLabel { get; }
    /// <summary>Plots log10(y), with tick labels 10ᵏ; every y must be positive.</summary>
    public bool LogY { get; }
    /// <summary>Where the legend sits inside the plot area (lower right by default: rising accuracy
    /// curves leave it free; falling loss curves read better with it upper right).</summary>
    public LegendCorner Legend { get; set; } = LegendCorner.LowerRight;
    /// <summary>The series' names, in the order they were added (and drawn, and listed in the legend).</summary>
    public IReadOnlyList<string> SeriesNames => series.Select(s => s.Name).ToList();

    /// <summary>Adds a series of points (x[i], y[i]).</summary>
    /// <exception cref="ArgumentException">Empty, lengths differ, a value is not finite, or y ≤ 0 with <see cref="LogY"/>.</exception>
    public LineChart Add(string name, IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        string call = $"{nameof(LineChart)}.{nameof(Add)}(\"{name}\")";
        if (x.Count != y.Count)
            throw new ArgumentException($"{call}: x has {x.Count} values but y has {y.Count}; they must have the same length", nameof(y));
        if (y.Count == 0)
            throw new ArgumentException($"{call}: the series is empty; a line needs at least one point", nameof(y));
        for (int i = 0; i < y.Count; i++)
        {
            if (!double.IsFinite(x[i]))
                throw new ArgumentException($"{call}: x[{i}] = {x[i]}; every value must be finite (a NaN usually means the run diverged)", nameof(x));
            if (!double.IsFinite(y[i]))
                throw new ArgumentException($"{call}: y[{i}] = {y[i]}; every value must be finite (a NaN usually means the run diverged)", nameof(y));
            if (LogY && y[i] <= 0)
                throw new ArgumentException($"{call}: y[{i}] = {y[i]}; a log-scale y axis needs every y > 0", nameof(y));
        }
        series.Add((name, x.ToArray(), y.ToArray()));
        return this;
    }

    /// <summary>Adds a series with one y per epoch: x = 1, 2, …, y.Count.</summary>
    public LineChart Add(string name, IReadOnlyList<double> yPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(yPerEpoch);
        return Add(name, Enumerable.Range(1, yPerEpoch.Count).Select(i => (double)i).ToArray(), yPerEpoch);
    }

    /// <summary>The chart as PNG bytes of <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    /// <exception cref="InvalidOperationException">No series was added.</exception>
    public byte[] RenderPng(int width = 800, int height = 500)
    {
        if (width < 100 || height < 100)
            throw new ArgumentOutOfRangeException(nameof(width), $"{nameof(LineChart)}.{nameof(RenderPng)}: {width} × {height} pixels is too small for a chart; use at least 100 × 100");
        if (series.Count == 0)
            throw new InvalidOperationException($"{nameof(LineChart)} \"{Title}\": no series to draw; call Add first");
        var plot = new ScottPlot.Plot();
        try
        {
            foreach (var (name, x, y) in series)
            {
                var line = plot.Add.ScatterLine(x, LogY ? y.Select(Math.Log10).ToArray() : y);
                line.LegendText = name;
                line.LineWidth = 2;
                // A lone point has no line to show; a marker keeps it visible.
                line.MarkerSize = x.Length == 1 ? 6 : 0;
            }
            if (LogY) plot.Axes.Left.TickGenerator = LogTicks();
            plot.Title(Title);
            plot.XLabel(XLabel);
            plot.YLabel(YLabel);
            if (series.Count > 1 || series[0].Name.Length > 0)
                plot.ShowLegend(Legend switch
                {
                    LegendCorner.UpperRight => ScottPlot.Alignment.UpperRight,
                    LegendCorner.UpperLeft => ScottPlot.Alignment.UpperLeft,
                    LegendCorner.LowerLeft => ScottPlot.Alignment.LowerLeft,
                    _ => ScottPlot.Alignment.LowerRight,
                });
            return plot.GetImageBytes(width, height, ScottPlot.ImageFormat.Png);
        }
        finally
        {
            plot.Dispose();
        }
    }

    /// <summary>Writes the chart to <paramref name="path"/> as a PNG, atomically (a temporary file
    /// renamed over the target), creating the folder if needed.</summary>
    public void Save(string path, int width = 800, int height = 500)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = RenderPng(width, height);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>Ticks for the log10 axis over the data's decades: a labelled major tick at every
    /// power of ten, minor ticks at 2…9 × 10ᵏ; when the data spans two decades or fewer, 2 × 10ᵏ and
    /// 5 × 10ᵏ are labelled too, so a curve inside one decade still has numbers beside it.</summary>
    ScottPlot.TickGenerators.NumericManual LogTicks()
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        foreach (var (position, label) in LogTickList(series.Min(s => s.Y.Min()), series.Max(s => s.Y.Max())))
            if (label is null) ticks.AddMinor(position);
            else ticks.AddMajor(position, label);
        return ticks;
    }

    /// <summary>The log10 positions of the ticks covering [lo, hi] (both &gt; 0), with the label of
    /// each major tick (null for a minor one).</summary>
    internal static List<(double Position, string? Label)> LogTickList(double lo, double hi)
    {
        int first = (int)Math.Floor(Math.Log10(lo)), last = (int)Math.Ceiling(Math.Log10(hi));
        bool narrow = last - first <= 2;
        var ticks = new List<(double, string?)>();
        for (int k = first; k <= last; k++)
            for (int m = 1; m <= (k == last ? 1 : 9); m++)
            {
                double position = Math.Log10(m) + k;
                ticks.Add((position, m == 1 || (narrow && (m == 2 || m == 5)) ? PowerOfTen(position) : null));
            }
        return ticks;
    }

    /// <summary>The label of a log10 tick: the power of ten it stands for (1e-3 → "0.001", 3 → "1000",
    /// beyond 10⁻⁴…10⁵ in exponent form).</summary>
    internal static string PowerOfTen(double log10)
    {
        double value = Math.Pow(10, log10);
        return Math.Abs(log10) <= 4.5
            ? value.ToString("0.#####", CultureInfo.InvariantCulture)
            : value.ToString("0.#e0", CultureInfo.InvariantCulture);
    }
}
