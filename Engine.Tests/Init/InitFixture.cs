namespace Engine.Tests.Init;

/// <summary>One case of Engine.Tests/Fixtures/init.json (scripts/fixtures/make_init_fixtures.py,
/// Python PyTorch 1.13's torch.nn.init after torch.manual_seed(seed)).</summary>
sealed record InitFixture(string Name, long Seed, long[] Shape, ScalarType Dtype, Tensor Value, System.Text.Json.JsonElement Args)
{
    static readonly Lazy<System.Text.Json.JsonElement> Cases = new(() =>
        System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestSetup.FixturePath("init.json"))).RootElement.GetProperty("cases"));

    /// <summary>The tensor lives in the caller's dispose scope.</summary>
    public static InitFixture Load(string name)
    {
        var e = Cases.Value.GetProperty(name);
        var shape = e.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray();
        var dtype = e.GetProperty("dtype").GetString() == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        var data = e.GetProperty("value").GetProperty("data").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        // float32 values were written as the shortest decimal that parses back to the same float32;
        // float64 as repr: both round-trip exactly.
        var value = dtype == ScalarType.Float64 ? tensor(data, shape) : tensor(data.Select(v => (float)v).ToArray(), shape);
        return new InitFixture(name, e.GetProperty("seed").GetInt64(), shape, dtype, value, e.GetProperty("args"));
    }

    public double Arg(string name, double fallback) => Args.TryGetProperty(name, out var v) ? v.GetDouble() : fallback;
}

static class Stats
{
    /// <summary>∫ f over [a, b] by composite Simpson with n (even) intervals, in float64.</summary>
    public static double Simpson(Func<double, double> f, double a, double b, int n = 20000)
    {
        double h = (b - a) / n, sum = f(a) + f(b);
        for (int i = 1; i < n; i++) sum += f(a + i * h) * (i % 2 == 1 ? 4 : 2);
        return sum * h / 3;
    }

    public static double Phi(double x) => Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI);

    /// <summary>Mean and variance of N(μ, σ²) truncated to [a, b], by integrating the density
    /// (independent of the erf/erfinv the initializer uses).</summary>
    public static (double Mean, double Variance) TruncatedNormalMoments(double mu, double sigma, double a, double b)
    {
        double z = Simpson(x => Phi((x - mu) / sigma), a, b);
        double m = Simpson(x => x * Phi((x - mu) / sigma), a, b) / z;
        double v = Simpson(x => (x - m) * (x - m) * Phi((x - mu) / sigma), a, b) / z;
        return (m, v);
    }

    public static (double Mean, double Variance, double Min, double Max) Moments(Tensor t)
    {
        using var d = t.to(ScalarType.Float64);
        return (d.mean().item<double>(), d.var(unbiased: false).item<double>(), d.min().item<double>(), d.max().item<double>());
    }
}
