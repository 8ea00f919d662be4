using System.Globalization;

namespace Engine.Recipe;

/// <summary>
/// The ranges a hyperparameter search draws from, by name (a learning rate on a log scale, a
/// dropout rate on a linear one, an optimizer from a list). Random search draws each
/// hyperparameter independently (Bergstra and Bengio 2012: with a few important hyperparameters,
/// n random trials try n distinct values of each, where a grid of n trials tries only n^(1/d));
/// grid search takes every combination of each range's grid points.
/// </summary>
public sealed class SearchSpace
{
    readonly List<(string Name, Range Range)> _ranges = [];

    /// <summary>One hyperparameter's range.</summary>
    public abstract record Range
    {
        /// <summary>A random value (uniform on the range's scale).</summary>
        public abstract object Draw(Random random);
        /// <summary>The grid search's points.</summary>
        public abstract IReadOnlyList<object> Grid { get; }
    }

    /// <summary>Uniform in [Low, High]; GridPoints evenly spaced points for grid search.</summary>
    public sealed record Uniform(double Low, double High, int GridPoints = 3) : Range
    {
        public override object Draw(Random random) => Low + (High - Low) * random.NextDouble();
        public override IReadOnlyList<object> Grid => Points(GridPoints, i => Low + (High - Low) * i);
    }

    /// <summary>Log-uniform in [Low, High] (Low &gt; 0): uniform in log10, so 1e-4..1e-3 is as likely
    /// as 1e-3..1e-2 (learning rates, weight decays).</summary>
    public sealed record LogUniform(double Low, double High, int GridPoints = 3) : Range
    {
        public override object Draw(Random random) => Math.Pow(10, Math.Log10(Low) + (Math.Log10(High) - Math.Log10(Low)) * random.NextDouble());
        public override IReadOnlyList<object> Grid => Points(GridPoints, i => Math.Pow(10, Math.Log10(Low) + (Math.Log10(High) - Math.Log10(Low)) * i));
    }

    /// <summary>An integer uniform in [Low, High], both included.</summary>
    public sealed record IntUniform(int Low, int High) : Range
    {
        public override object Draw(Random random) => random.Next(Low, High + 1);
        public override IReadOnlyList<object> Grid => Enumerable.Range(Low, High - Low + 1).Cast<object>().ToList();
    }

    /// <summary>One of the given values, each equally likely.</summary>
    public sealed record Categorical(IReadOnlyList<object> Values) : Range
    {
        public override object Draw(Random random) => Values[random.Next(Values.Count)];
        public override IReadOnlyList<object> Grid => Values;
    }

    static IReadOnlyList<object> Points(int n, Func<double, double> at) =>
        n == 1 ? [at(0.5)] : Enumerable.Range(0, n).Select(i => (object)at(i / (double)(n - 1))).ToList();

    /// <summary>Adds a hyperparameter; checks the range before any trial runs.</summary>
    public SearchSpace Add(string name, Range range)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(range);
        if (_ranges.Any(r => r.Name == name)) throw new ArgumentException($"SearchSpace.Add: '{name}' is already in the space", nameof(name));
        string? problem = range switch
        {
            Uniform u when !(double.IsFinite(u.Low) && double.IsFinite(u.High) && u.Low <= u.High) => $"Uniform({u.Low}, {u.High}) needs finite low ≤ high",
            LogUniform l when !(l.Low > 0 && double.IsFinite(l.High) && l.Low <= l.High) => $"LogUniform({l.Low}, {l.High}) needs 0 < low ≤ high",
            Uniform { GridPoints: < 1 } or LogUniform { GridPoints: < 1 } => "GridPoints must be at least 1",
            IntUniform i when i.Low > i.High => $"IntUniform({i.Low}, {i.High}) needs low ≤ high",
            Categorical c when c.Values is null || c.Values.Count == 0 => "Categorical needs at least one value",
            _ => null,
        };
        if (problem is not null) throw new ArgumentException($"SearchSpace.Add('{name}'): {problem}", nameof(range));
        _ranges.Add((name, range));
        return this;
    }

    /// <summary>The hyperparameters' names, in the order they were added.</summary>
    public IReadOnlyList<string> Names => _ranges.Select(r => r.Name).ToList();

    /// <summary>A random configuration drawn from <paramref name="random"/>.</summary>
    public Configuration Draw(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        RequireNotEmpty("Draw");
        return new Configuration(_ranges.ToDictionary(r => r.Name, r => r.Range.Draw(random)));
    }

    /// <summary>Every combination of the ranges' grid points (the last name varies fastest).</summary>
    public IReadOnlyList<Configuration> Grid()
    {
        RequireNotEmpty("Grid");
        IEnumerable<Dictionary<string, object>> combos = [new Dictionary<string, object>()];
        foreach (var (name, range) in _ranges)
            combos = combos.SelectMany(c => range.Grid.Select(v => new Dictionary<string, object>(c) { [name] = v }));
        return combos.Select(c => new Configuration(c)).ToList();
    }

    void RequireNotEmpty(string call)
    {
        if (_ranges.Count == 0) throw new InvalidOperationException($"SearchSpace.{call}: the space has no hyperparameters; Add some first");
    }
}

/// <summary>One point of a <see cref="SearchSpace"/>: hyperparameter values by name.</summary>
public sealed class Configuration(IReadOnlyDictionary<string, object> values)
{
    public IReadOnlyDictionary<string, object> Values { get; } = values;

    /// <summary>The value of <paramref name="name"/> as T (doubles, ints and categorical values as given).</summary>
    public T Get<T>(string name) => Values.TryGetValue(name, out var v)
        ? (T)Convert.ChangeType(v, typeof(T), CultureInfo.InvariantCulture)
        : throw new KeyNotFoundException($"Configuration: no hyperparameter '{name}'; it has {string.Join(", ", Values.Keys)}");

    public override string ToString() => string.Join(", ", Values.Select(kv => kv.Value is double d
        ? $"{kv.Key}={d.ToString("G4", CultureInfo.InvariantCulture)}" : $"{kv.Key}={kv.Value}"));
}
