using System.Diagnostics;
using System.Text.Json;

namespace Engine.Bench;

/// <summary>One measured case: wall and thread-CPU seconds per iteration of each timed repeat;
/// <see cref="Extra"/> holds figures a case reports besides its time (phase split, accuracy).</summary>
sealed record Result(string Name, string Group, string Description, int N, double[] Seconds, double[] CpuSeconds)
{
    public Dictionary<string, double> Extra { get; } = new();

    public double Median => MedianOf(Seconds);
    public double Min => Seconds.Min();
    public double CpuMedian => MedianOf(CpuSeconds);
    public double CpuMin => CpuSeconds.Min();

    static double MedianOf(double[] values)
    {
        var s = (double[])values.Clone();
        Array.Sort(s);
        int m = s.Length / 2;
        return s.Length % 2 == 1 ? s[m] : 0.5 * (s[m - 1] + s[m]);
    }
}

/// <summary>
/// A Stopwatch harness, mirrored line for line by scripts/bench_python.py: warm up (JIT tiering,
/// libtorch's allocator and thread pools) for at least <see cref="WarmupSeconds"/>, then time
/// <see cref="Repeats"/> repeats of N iterations of the body and keep each repeat's time per
/// iteration. Many short repeats rather than a few long ones: on a shared machine the fastest
/// of them estimate the uncontended cost, their median the typical one. The body runs its own loop of N so the harness adds no per-iteration cost.
/// Besides wall time it records this thread's CPU time (Python's time.thread_time); with more
/// than one intra-op thread part of the work runs on other threads, so the report uses wall time.
/// </summary>
sealed partial class Harness
{
    [System.Runtime.InteropServices.LibraryImport("libc.so.6", EntryPoint = "clock_gettime")]
    private static unsafe partial int ClockGetTime(int clock, long* timespec);

    const int ClockThreadCpuTime = 3; // CLOCK_THREAD_CPUTIME_ID

    static unsafe double ThreadCpuSeconds()
    {
        long* ts = stackalloc long[2];
        ClockGetTime(ClockThreadCpuTime, ts);
        return ts[0] + ts[1] * 1e-9;
    }

    public int Repeats { get; init; } = 15;
    public double WarmupSeconds { get; init; } = 0.5;
    /// <summary>Multiplies every case's N (0.1 for a quick look); the warm-up stays, so the JIT
    /// still reaches its optimized tier.</summary>
    public double Scale { get; init; } = 1.0;
    public List<Result> Results { get; } = new();

    public Result Measure(string name, string group, string description, int n, Action<int> body) =>
        MeasureInterleaved([new Case(name, group, description, n, body)])[0];

    /// <summary>A case for <see cref="MeasureInterleaved"/>.</summary>
    public sealed record Case(string Name, string Group, string Description, int N, Action<int> Body);

    /// <summary>Times several cases round-robin (repeat 1 of each, then repeat 2 of each...), so
    /// load from other processes falls on all of them alike: for comparing close variants.</summary>
    public List<Result> MeasureInterleaved(IReadOnlyList<Case> cases, int? repeats = null)
    {
        int reps = repeats ?? Repeats;
        var ns = cases.Select(c => Math.Max(1, (int)Math.Round(c.N * Scale))).ToArray();
        for (int k = 0; k < cases.Count; k++)
        {
            var clock = Stopwatch.StartNew();
            int calls = 0;
            while (calls < 3 || clock.Elapsed.TotalSeconds < WarmupSeconds)
            {
                cases[k].Body(ns[k]);
                calls++;
            }
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var seconds = cases.Select(_ => new double[reps]).ToArray();
        var cpu = cases.Select(_ => new double[reps]).ToArray();
        for (int r = 0; r < reps; r++)
        {
            for (int k = 0; k < cases.Count; k++)
            {
                int n = ns[k];
                double c0 = ThreadCpuSeconds();
                long t0 = Stopwatch.GetTimestamp();
                cases[k].Body(n);
                long t1 = Stopwatch.GetTimestamp();
                double c1 = ThreadCpuSeconds();
                seconds[k][r] = (t1 - t0) / (double)Stopwatch.Frequency / n;
                cpu[k][r] = (c1 - c0) / n;
            }
        }
        var results = new List<Result>();
        for (int k = 0; k < cases.Count; k++)
        {
            var c = cases[k];
            var result = new Result(c.Name, c.Group, c.Description, ns[k], seconds[k], cpu[k]);
            Results.Add(result);
            results.Add(result);
            Console.WriteLine($"  {c.Name,-28} {Format(result.Median),12} median  {Format(result.Min),12} min  {Format(result.CpuMedian),12} cpu  {Format(result.CpuMin),12} cpu min  (N={ns[k]}, {reps} repeats)");
        }
        return results;
    }

    public static string Format(double seconds) =>
        seconds < 1e-3 ? $"{seconds * 1e6:F3} us" : seconds < 1 ? $"{seconds * 1e3:F3} ms" : $"{seconds:F3} s";

    /// <summary>Adds a result measured outside the harness (a whole epoch, say).</summary>
    public Result Add(Result result)
    {
        Results.Add(result);
        Console.WriteLine($"  {result.Name,-28} {Format(result.Median),12} median  {Format(result.Min),12} min  ({result.Seconds.Length} runs)");
        return result;
    }

    public void WriteJson(string path, IReadOnlyDictionary<string, object> meta, IReadOnlyDictionary<string, double[]> checks)
    {
        using var stream = File.Create(path);
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        foreach (var (key, value) in meta)
        {
            switch (value)
            {
                case int i: w.WriteNumber(key, i); break;
                case double d: w.WriteNumber(key, d); break;
                default: w.WriteString(key, value.ToString()); break;
            }
        }
        w.WriteStartObject("checks");
        foreach (var (key, values) in checks)
        {
            w.WriteStartArray(key);
            foreach (var v in values) w.WriteNumberValue(v);
            w.WriteEndArray();
        }
        w.WriteEndObject();
        w.WriteStartArray("cases");
        foreach (var r in Results)
        {
            w.WriteStartObject();
            w.WriteString("name", r.Name);
            w.WriteString("group", r.Group);
            w.WriteString("description", r.Description);
            w.WriteNumber("n", r.N);
            w.WriteNumber("median_s", r.Median);
            w.WriteNumber("min_s", r.Min);
            w.WriteNumber("cpu_median_s", r.CpuMedian);
            w.WriteNumber("cpu_min_s", r.CpuMin);
            w.WriteStartArray("seconds");
            foreach (var s in r.Seconds) w.WriteNumberValue(s);
            w.WriteEndArray();
            w.WriteStartArray("cpu_seconds");
            foreach (var s in r.CpuSeconds) if (double.IsFinite(s)) w.WriteNumberValue(s);
            w.WriteEndArray();
            w.WriteStartObject("extra");
            foreach (var (key, value) in r.Extra) if (double.IsFinite(value)) w.WriteNumber(key, value);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
