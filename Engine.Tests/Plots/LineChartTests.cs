using Engine.Plots;
using SkiaSharp;

namespace Engine.Tests.Plots;

public class LineChartTests
{
    string folder = "";

    [SetUp]
    public void MakeFolder() => folder = Directory.CreateTempSubdirectory("engine-plots-").FullName;

    [TearDown]
    public void RemoveFolder() => Directory.Delete(folder, recursive: true);

    static LineChart TwoCurves(bool logY = false) =>
        new LineChart("Loss", "epoch", "loss", logY)
            .Add("train", [2.3, 1.0, 0.4, 0.1, 0.02])
            .Add("validation", [1, 2, 3, 4, 5], [2.3, 1.1, 0.6, 0.5, 0.55]);

    [Test]
    public void Save_writes_a_png_that_decodes_at_the_requested_size_and_leaves_no_temporary_file()
    {
        var path = Path.Combine(folder, "sub", "loss.png");
        TwoCurves().Save(path, 640, 400);
        using var bitmap = SKBitmap.Decode(path);
        Assert.That(bitmap, Is.Not.Null, "the file is not a decodable image");
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((640, 400)));
        Assert.That(File.ReadAllBytes(path).Take(8), Is.EqualTo(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }));
        Assert.That(Directory.GetFiles(Path.Combine(folder, "sub")), Is.EqualTo(new[] { path }));
    }

    [Test]
    public void Save_replaces_an_existing_file()
    {
        var path = Path.Combine(folder, "chart.png");
        File.WriteAllText(path, "old");
        TwoCurves(logY: true).Save(path, 300, 200);
        using var bitmap = SKBitmap.Decode(path);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((300, 200)));
    }

    [Test]
    public void The_series_are_drawn_in_the_palette_colours()
    {
        // ScottPlot 5's default palette (Category10) starts with #1f77b4 and #ff7f0e; a chart with no
        // lines drawn, or only one, would miss one of them.
        using var bitmap = SKBitmap.Decode(TwoCurves().RenderPng(400, 300));
        int Count(SKColor c) => Enumerable.Range(0, bitmap.Width * bitmap.Height)
            .Count(i => Near(bitmap.GetPixel(i % bitmap.Width, i / bitmap.Width), c));
        Assert.That(Count(new SKColor(0x1f, 0x77, 0xb4)), Is.GreaterThan(50));
        Assert.That(Count(new SKColor(0xff, 0x7f, 0x0e)), Is.GreaterThan(50));
    }

    static bool Near(SKColor a, SKColor b) => Math.Abs(a.Red - b.Red) + Math.Abs(a.Green - b.Green) + Math.Abs(a.Blue - b.Blue) < 30;

    [Test]
    public void Log_ticks_are_labelled_with_the_powers_of_ten()
    {
        Assert.That(LineChart.PowerOfTen(-3), Is.EqualTo("0.001"));
        Assert.That(LineChart.PowerOfTen(0), Is.EqualTo("1"));
        Assert.That(LineChart.PowerOfTen(2), Is.EqualTo("100"));
        Assert.That(LineChart.PowerOfTen(7), Is.EqualTo("1e7"));
        Assert.That(LineChart.PowerOfTen(-6), Is.EqualTo("1e-6"));
        Assert.That(LineChart.PowerOfTen(Math.Log10(5)), Is.EqualTo("5"));
    }

    [Test]
    public void Log_ticks_cover_the_data_and_label_2_and_5_when_it_spans_few_decades()
    {
        // Validation loss 0.3 … 1.5: decades 10⁻¹ … 10¹, labelled 0.1 0.2 0.5 1 2 5 10.
        var narrow = LineChart.LogTickList(0.3, 1.5);
        Assert.That(narrow.Where(t => t.Label is not null).Select(t => t.Label), Is.EqualTo(new[] { "0.1", "0.2", "0.5", "1", "2", "5", "10" }));
        Assert.That(narrow.Where(t => t.Label is null).Select(t => Math.Round(Math.Pow(10, t.Position), 6)),
            Is.EqualTo(new[] { 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 3, 4, 6, 7, 8, 9 }));
        // Six decades: only the powers of ten are labelled.
        var wide = LineChart.LogTickList(2e-4, 50);
        Assert.That(wide.Where(t => t.Label is not null).Select(t => t.Label), Is.EqualTo(new[] { "0.0001", "0.001", "0.01", "0.1", "1", "10", "100" }));
    }

    [Test]
    public void A_nan_in_a_series_is_rejected_naming_the_series_and_the_point()
    {
        var chart = new LineChart("t", "x", "y");
        var e = Assert.Throws<ArgumentException>(() => chart.Add("validation", [0.5, double.NaN, 0.4]));
        Assert.That(e!.Message, Does.Contain("\"validation\"").And.Contain("y[1] = NaN"));
        e = Assert.Throws<ArgumentException>(() => chart.Add("x bad", [1, double.PositiveInfinity], [1, 2]));
        Assert.That(e!.Message, Does.Contain("x[1]"));
        Assert.That(chart.SeriesNames, Is.Empty);
    }

    [Test]
    public void An_empty_series_mismatched_lengths_or_nonpositive_log_values_are_rejected()
    {
        var chart = new LineChart("t", "x", "y", logY: true);
        Assert.That(Assert.Throws<ArgumentException>(() => chart.Add("empty", Array.Empty<double>()))!.Message, Does.Contain("empty"));
        Assert.That(Assert.Throws<ArgumentException>(() => chart.Add("lengths", [1, 2, 3], [1, 2]))!.Message, Does.Contain("x has 3 values but y has 2"));
        Assert.That(Assert.Throws<ArgumentException>(() => chart.Add("zero", [1, 0]))!.Message, Does.Contain("y[1] = 0").And.Contain("log"));
    }

    [Test]
    public void Rendering_a_chart_without_series_says_so()
    {
        var e = Assert.Throws<InvalidOperationException>(() => new LineChart("Empty chart", "x", "y").Save(Path.Combine(folder, "e.png")));
        Assert.That(e!.Message, Does.Contain("no series"));
        Assert.That(Directory.GetFiles(folder), Is.Empty);
    }
}
