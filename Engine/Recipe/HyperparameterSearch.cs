using System.Globalization;
using System.Text;

namespace Engine.Recipe;

/// <summary>One trial: a configuration trained with a budget (epochs, steps...) and its score.</summary>
public sealed record Trial(int Id, Configuration Configuration, int Budget, int Seed, double Score);

/// <summary>Every trial run and the best one (by its last, largest-budget score).</summary>
public sealed class SearchResult(IReadOnlyList<Trial> trials, bool minimize)
{
    public IReadOnlyList<Trial> Trials { get; } = trials;
    public bool Minimize { get; } = minimize;

    /// <summary>The best trial among those run with the largest budget; NaN scores never win.</summary>
    public Trial Best
    {
        get
        {
            int top = Trials.Max(t => t.Budget);
            return Trials.Where(t => t.Budget == top).OrderBy(t => HyperparameterSearch.Rank(t.Score, Minimize)).First();
        }
    }

    /// <summary>A markdown table of the trials, best first within each budget.</summary>
    public string Table()
    {
        var names = Trials[0].Configuration.Values.Keys.ToList();
        var sb = new StringBuilder();
        sb.AppendLine("| trial | budget | " + string.Join(" | ", names) + " | score |");
        sb.AppendLine("|---:|---:|" + string.Concat(names.Select(_ => "---|")) + "---:|");
        foreach (var t in Trials.OrderByDescending(t => t.Budget).ThenBy(t => HyperparameterSearch.Rank(t.Score, Minimize)))
            sb.AppendLine($"| {t.Id} | {t.Budget} | " + string.Join(" | ", names.Select(n => Format(t.Configuration.Values[n]))) + $" | {Format(t.Score)} |");
        return sb.ToString();
    }

    static string Format(object v) => v is double d ? d.ToString("G4", CultureInfo.InvariantCulture) : Convert.ToString(v, CultureInfo.InvariantCulture) ?? "";
}

/// <summary>
/// Hyperparameter search over a <see cref="SearchSpace"/> with a user's objective
/// <c>score = objective(configuration, budget, seed)</c> (train with that many epochs or steps under
/// that seed, return the validation metric). Reproducible: configurations and trial seeds come
/// from one seed. The seed's advice (random search over grid search, on a log scale for rates,
/// short trials first) is built in:
/// <code>
/// Random(n)            n configurations drawn independently, each trained with the full budget
/// Grid                 every combination of the ranges' grid points, full budget
/// SuccessiveHalving    n configurations with budget r; keep the best 1/η, train them with η·r;
///                      repeat until one is left or the budget reaches maxBudget
///                      (Jamieson and Talwalkar 2016; Hyperband's inner loop)
/// </code>
/// A NaN or infinite score (a diverged run) ranks last. Trials run one after another.
/// </summary>
public static class HyperparameterSearch
{
    /// <summary>Random search: <paramref name="trials"/> draws, each trained with <paramref name="budget"/>.</summary>
    public static SearchResult Random(SearchSpace space, Func<Configuration, int, int, double> objective, int trials, int budget,
        int seed = 0, bool minimize = false)
    {
        Validate(space, objective, trials, budget, "Random");
        var random = new Random(seed);
        var configurations = Enumerable.Range(0, trials).Select(_ => space.Draw(random)).ToList();
        return new SearchResult(Run(configurations, objective, budget, seed), minimize);
    }

    /// <summary>Grid search: every combination of the grid points, each trained with <paramref name="budget"/>.</summary>
    public static SearchResult Grid(SearchSpace space, Func<Configuration, int, int, double> objective, int budget,
        int seed = 0, bool minimize = false)
    {
        Validate(space, objective, 1, budget, "Grid");
        return new SearchResult(Run(space.Grid(), objective, budget, seed), minimize);
    }

    /// <summary>Successive halving from <paramref name="trials"/> random configurations and
    /// <paramref name="minBudget"/>, keeping the best 1/<paramref name="eta"/> each round.</summary>
    public static SearchResult SuccessiveHalving(SearchSpace space, Func<Configuration, int, int, double> objective, int trials,
        int minBudget, int maxBudget, int eta = 3, int seed = 0, bool minimize = false)
    {
        Validate(space, objective, trials, minBudget, "SuccessiveHalving");
        if (maxBudget < minBudget) throw new ArgumentOutOfRangeException(nameof(maxBudget), maxBudget, $"HyperparameterSearch.SuccessiveHalving: maxBudget must be at least minBudget ({minBudget})");
        if (eta < 2) throw new ArgumentOutOfRangeException(nameof(eta), eta, "HyperparameterSearch.SuccessiveHalving: eta (the keep-1/eta factor) must be at least 2");
        var random = new Random(seed);
        var survivors = Enumerable.Range(0, trials).Select(i => (Id: i, Configuration: space.Draw(random))).ToList();
        var all = new List<Trial>();
        for (long budget = minBudget; ; budget *= eta)
        {
            int b = (int)Math.Min(budget, maxBudget);
            var round = survivors.Select(s => Evaluate(s.Id, s.Configuration, objective, b, seed)).ToList();
            all.AddRange(round);
            if (survivors.Count == 1 || b >= maxBudget) break;
            int keep = Math.Max(1, survivors.Count / eta);
            survivors = round.OrderBy(t => Rank(t.Score, minimize)).Take(keep).Select(t => (t.Id, t.Configuration)).ToList();
        }
        return new SearchResult(all, minimize);
    }

    /// <summary>Sort key: better first, NaN and infinities last.</summary>
    internal static double Rank(double score, bool minimize) =>
        !double.IsFinite(score) ? double.PositiveInfinity : minimize ? score : -score;

    static List<Trial> Run(IReadOnlyList<Configuration> configurations, Func<Configuration, int, int, double> objective, int budget, int seed) =>
        configurations.Select((c, i) => Evaluate(i, c, objective, budget, seed)).ToList();

    // Each configuration keeps one seed through every budget: a longer run repeats the shorter one's start.
    static Trial Evaluate(int id, Configuration configuration, Func<Configuration, int, int, double> objective, int budget, int seed)
    {
        int trialSeed = unchecked(seed * 1_000_003 + id);
        return new Trial(id, configuration, budget, trialSeed, objective(configuration, budget, trialSeed));
    }

    static void Validate(SearchSpace space, Func<Configuration, int, int, double> objective, int trials, int budget, string call)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(objective);
        if (space.Names.Count == 0) throw new ArgumentException($"HyperparameterSearch.{call}: the search space has no hyperparameters", nameof(space));
        if (trials < 1) throw new ArgumentOutOfRangeException(nameof(trials), trials, $"HyperparameterSearch.{call}: trials must be at least 1");
        if (budget < 1) throw new ArgumentOutOfRangeException(nameof(budget), budget, $"HyperparameterSearch.{call}: the budget must be at least 1");
    }
}
