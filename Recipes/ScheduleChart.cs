using System.Globalization;
using System.Security;
using System.Text;
using Engine.Schedules;

namespace Engine.Recipes;

/// <summary>
/// The seed's "Learning Rate Schedules" chart, drawn from the engine's own schedules: step decay
/// (Keras PiecewiseConstantDecay, boundaries 300/600/800), exponential (0.96 every 100 steps),
/// cosine, and linear warmup (100 steps) then cosine, over 1000 steps from lr 0.1. Written as an
/// SVG file (axes, ticks, one line per schedule, legend) by a small hand-written SVG writer; open
/// it in any browser. Usage: <c>schedule-chart [output.svg]</c> (default schedules.svg).
/// </summary>
public static class ScheduleChart
{
    public static int Run(string[] args)
    {
        string path = args.Length > 0 ? args[0] : "schedules.svg";
        const int totalSteps = 1000;
        const double initialLr = 0.1;

        // The seed's four schedules, as the engine writes them.
        var schedules = new (string Label, Schedule Schedule)[]
        {
            ("Step Decay", new PiecewiseConstantDecay([300, 600, 800], [0.1, 0.01, 0.001, 0.0001])),
            ("Exponential", new ExponentialLR(0.96, decaySteps: 100)),
            ("Cosine", new CosineAnnealingLR(totalSteps)),
            ("Warmup+Cosine", Schedule.WarmupCosine(warmupSteps: 100, totalSteps: totalSteps)),
        };
        var series = schedules
            .Select(s => new Series(s.Label, Enumerable.Range(0, totalSteps).Select(t => s.Schedule.LearningRate(t, initialLr)).ToArray()))
            .ToArray();

        var svg = new SvgChart("Learning Rate Schedules", "Step", "Learning Rate").Render(series);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllText(path, svg);

        Console.WriteLine($"schedule-chart: wrote {Path.GetFullPath(path)}");
        Console.WriteLine($"{"step",6} " + string.Join(" ", series.Select(s => $"{s.Label,14}")));
        foreach (int t in new[] { 0, 50, 100, 299, 301, 500, 700, 999 })
            Console.WriteLine($"{t,6} " + string.Join(" ", series.Select(s => $"{s.Values[t],14:G6}")));
        return 0;
    }

    internal sealed record Series(string Label, double[] Values);

    /// <summary>A line chart as SVG: plot area with grid, ticks and labels on both axes, a
    /// polyline per series (x = index), a legend. Only what the chart needs.</summary>
    internal sealed class SvgChart(string title, string xLabel, string yLabel)
    {
        const int Width = 960, Height = 480, Left = 90, Right = 30, Top = 50, Bottom = 60;
        static readonly string[] Colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

        static string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        static string E(string s) => SecurityElement.Escape(s);

        public string Render(IReadOnlyList<Series> series)
        {
            int points = series.Max(s => s.Values.Length);
            double xMax = points - 1;
            double yMax = series.SelectMany(s => s.Values).Where(double.IsFinite).DefaultIfEmpty(1).Max();
            var xTicks = Ticks(0, xMax, 10);
            var yTicks = Ticks(0, yMax, 5);
            double xTop = Math.Max(xMax, xTicks[^1]), yTop = 1.04 * Math.Max(yMax, yTicks[^1]); // headroom above the top line
            double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
            double X(double x) => Left + x / xTop * plotW;
            double Y(double y) => Top + plotH - y / yTop * plotH;

            var sb = new StringBuilder();
            sb.AppendLine($"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="DejaVu Sans, Arial, sans-serif">""");
            sb.AppendLine($"""  <rect width="{Width}" height="{Height}" fill="white"/>""");
            sb.AppendLine($"""  <text x="{N(Left + plotW / 2)}" y="{Top - 18}" font-size="18" text-anchor="middle">{E(title)}</text>""");

            // Grid and ticks.
            sb.AppendLine("""  <g stroke="#e0e0e0" stroke-width="1">""");
            foreach (var t in xTicks) sb.AppendLine($"""    <line x1="{N(X(t))}" y1="{Top}" x2="{N(X(t))}" y2="{N(Top + plotH)}"/>""");
            foreach (var t in yTicks) sb.AppendLine($"""    <line x1="{Left}" y1="{N(Y(t))}" x2="{N(Left + plotW)}" y2="{N(Y(t))}"/>""");
            sb.AppendLine("  </g>");
            sb.AppendLine("""  <g font-size="12" fill="#333">""");
            foreach (var t in xTicks)
            {
                sb.AppendLine($"""    <line x1="{N(X(t))}" y1="{N(Top + plotH)}" x2="{N(X(t))}" y2="{N(Top + plotH + 5)}" stroke="#333"/>""");
                sb.AppendLine($"""    <text x="{N(X(t))}" y="{N(Top + plotH + 20)}" text-anchor="middle">{Label(t)}</text>""");
            }
            foreach (var t in yTicks)
            {
                sb.AppendLine($"""    <line x1="{Left - 5}" y1="{N(Y(t))}" x2="{Left}" y2="{N(Y(t))}" stroke="#333"/>""");
                sb.AppendLine($"""    <text x="{Left - 9}" y="{N(Y(t) + 4)}" text-anchor="end">{Label(t)}</text>""");
            }
            sb.AppendLine("  </g>");

            // Axes and their labels.
            sb.AppendLine($"""  <rect x="{Left}" y="{Top}" width="{N(plotW)}" height="{N(plotH)}" fill="none" stroke="#333" stroke-width="1"/>""");
            sb.AppendLine($"""  <text x="{N(Left + plotW / 2)}" y="{Height - 15}" font-size="14" text-anchor="middle">{E(xLabel)}</text>""");
            sb.AppendLine($"""  <text transform="translate(22 {N(Top + plotH / 2)}) rotate(-90)" font-size="14" text-anchor="middle">{E(yLabel)}</text>""");

            // One polyline per series.
            for (int i = 0; i < series.Count; i++)
            {
                var pts = string.Join(" ", series[i].Values.Select((v, x) => $"{N(X(x))},{N(Y(v))}"));
                sb.AppendLine($"""  <polyline fill="none" stroke="{Colors[i % Colors.Length]}" stroke-width="2" stroke-linejoin="round" points="{pts}"/>""");
            }

            // Legend inside the plot, where it covers the fewest points (matplotlib's "best").
            double legendW = 20 + 30 + 8 + 9 * series.Max(s => s.Label.Length), legendH = 10 + 22 * series.Count;
            var candidates = new List<(double X, double Y)>();
            foreach (var fx in new[] { 1.0, 0.0, 0.5 })
                foreach (var fy in new[] { 0.0, 0.5, 1.0 })
                    candidates.Add((Left + 12 + fx * (plotW - legendW - 24), Top + 12 + fy * (plotH - legendH - 24)));
            int Covered((double X, double Y) c) => series.Sum(s => s.Values.Select((v, x) => (X(x), Y(v)))
                .Count(p => p.Item1 >= c.X - 4 && p.Item1 <= c.X + legendW + 4 && p.Item2 >= c.Y - 4 && p.Item2 <= c.Y + legendH + 4));
            var (lx, ly) = candidates.MinBy(Covered);
            sb.AppendLine($"""  <g font-size="13"><rect x="{N(lx)}" y="{N(ly)}" width="{N(legendW)}" height="{N(legendH)}" fill="white" fill-opacity="0.9" stroke="#bbb" rx="4"/>""");
            for (int i = 0; i < series.Count; i++)
            {
                double y = ly + 18 + 22 * i;
                sb.AppendLine($"""    <line x1="{N(lx + 10)}" y1="{N(y - 4)}" x2="{N(lx + 40)}" y2="{N(y - 4)}" stroke="{Colors[i % Colors.Length]}" stroke-width="2.5"/>""");
                sb.AppendLine($"""    <text x="{N(lx + 48)}" y="{N(y)}">{E(series[i].Label)}</text>""");
            }
            sb.AppendLine("  </g>");
            sb.AppendLine("</svg>");
            return sb.ToString();
        }

        /// <summary>Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi].</summary>
        internal static double[] Ticks(double lo, double hi, int target)
        {
            if (!(hi > lo)) hi = lo + 1;
            double raw = (hi - lo) / target;
            double power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
            double step = new[] { 1.0, 2.0, 5.0, 10.0 }.Select(m => m * power).First(s => s >= raw);
            int count = (int)Math.Ceiling((hi - lo) / step - 1e-9);
            return Enumerable.Range(0, count + 1).Select(i => Math.Round(lo + i * step, 12)).ToArray();
        }

        static string Label(double v) => v.ToString("0.######", CultureInfo.InvariantCulture);
    }
}
