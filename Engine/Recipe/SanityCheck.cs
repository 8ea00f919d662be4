using System.Globalization;
using System.Text;

namespace Engine.Recipe;

/// <summary>
/// One check of Karpathy's "A Recipe for Training Neural Networks" (step 2, "set up the
/// end-to-end training/evaluation skeleton + get dumb baselines"): its name, whether it passed,
/// the numbers it measured (named, for a log or a report) and what to do when it failed.
/// </summary>
public sealed record SanityCheck(string Name, bool Passed, IReadOnlyDictionary<string, double> Numbers, string Advice)
{
    /// <summary>"[PASS] initial loss: loss=2.31, expected=2.30. advice".</summary>
    public override string ToString()
    {
        var numbers = string.Join(", ", Numbers.Select(kv => $"{kv.Key}={kv.Value.ToString("G4", CultureInfo.InvariantCulture)}"));
        return $"[{(Passed ? "PASS" : "FAIL")}] {Name}: {numbers}{(Advice.Length > 0 ? ". " + Advice : "")}";
    }
}

/// <summary>The checks <see cref="SanityChecks.Run"/> ran, in order.</summary>
public sealed class SanityReport
{
    /// <summary>Every check, in the order it ran.</summary>
    public IReadOnlyList<SanityCheck> Checks { get; }

    /// <summary>The decoded statistics of the first batch (what goes into the model).</summary>
    public BatchStatistics? FirstBatch { get; }

    /// <summary>Creates a report.</summary>
    public SanityReport(IReadOnlyList<SanityCheck> checks, BatchStatistics? firstBatch)
    {
        Checks = checks;
        FirstBatch = firstBatch;
    }

    /// <summary>Every check passed.</summary>
    public bool Passed => Checks.All(c => c.Passed);

    /// <summary>The check called <paramref name="name"/>.</summary>
    public SanityCheck this[string name] => Checks.First(c => c.Name == name);

    /// <summary>One line per check.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var c in Checks) sb.AppendLine(c.ToString());
        return sb.ToString();
    }
}
