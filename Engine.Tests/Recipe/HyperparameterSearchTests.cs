using Engine.Recipe;

namespace Engine.Tests.Recipe;

/// <summary>Hyperparameter search against objectives whose optimum is known: reproducible
/// draws, log-uniform draws uniform in log10, grid coverage, successive halving's budgets and
/// survivors, NaN ranking last, and bad input.</summary>
public class HyperparameterSearchTests
{
    static SearchSpace Space() => new SearchSpace()
        .Add("lr", new SearchSpace.LogUniform(1e-5, 1e-1))
        .Add("dropout", new SearchSpace.Uniform(0, 0.5))
        .Add("optimizer", new SearchSpace.Categorical(["sgd", "adam"]));

    // Best at lr = 1e-3, dropout 0.2, adam; higher is better.
    static double Objective(Configuration c, int budget, int seed) =>
        -Math.Pow(Math.Log10(c.Get<double>("lr")) + 3, 2) - Math.Pow(c.Get<double>("dropout") - 0.2, 2)
        - (c.Get<string>("optimizer") == "adam" ? 0 : 1);

    [Test]
    public void Random_search_is_reproducible_and_finds_the_known_optimum()
    {
        var a = HyperparameterSearch.Random(Space(), Objective, trials: 60, budget: 1, seed: 5);
        var b = HyperparameterSearch.Random(Space(), Objective, trials: 60, budget: 1, seed: 5);
        Assert.That(a.Trials.Select(t => t.Configuration.ToString()), Is.EqualTo(b.Trials.Select(t => t.Configuration.ToString())));
        Assert.That(a.Trials.Select(t => t.Seed), Is.EqualTo(b.Trials.Select(t => t.Seed)));
        var best = a.Best.Configuration;
        Assert.That(best.Get<string>("optimizer"), Is.EqualTo("adam"));
        Assert.That(Math.Abs(Math.Log10(best.Get<double>("lr")) + 3), Is.LessThan(0.5), "60 draws over 4 decades land within half a decade");
        Assert.That(a.Table(), Does.Contain("| trial | budget | lr | dropout | optimizer | score |"));
    }

    [Test]
    public void Log_uniform_draws_are_uniform_in_log10()
    {
        var range = new SearchSpace.LogUniform(1e-6, 1);
        var random = new Random(1);
        var logs = Enumerable.Range(0, 20000).Select(_ => Math.Log10((double)range.Draw(random))).ToList();
        // Each of the 6 decades holds 1/6 of 20,000 draws; binomial sd ≈ 53, so 5 sd is ±265.
        for (int d = -6; d < 0; d++)
            Assert.That(logs.Count(l => l >= d && l < d + 1), Is.EqualTo(20000 / 6).Within(265), $"decade 1e{d}");
    }

    [Test]
    public void Grid_search_runs_every_combination()
    {
        var space = new SearchSpace().Add("lr", new SearchSpace.LogUniform(1e-4, 1e-2, GridPoints: 3)).Add("layers", new SearchSpace.IntUniform(1, 2));
        var result = HyperparameterSearch.Grid(space, (c, _, _) => -Math.Abs(Math.Log10(c.Get<double>("lr")) + 3) - c.Get<int>("layers"), budget: 2);
        Assert.That(result.Trials, Has.Count.EqualTo(6));
        Assert.That(result.Trials.Select(t => t.Configuration.Get<double>("lr")).Distinct().Select(lr => Math.Round(Math.Log10(lr))), Is.EquivalentTo(new double[] { -4, -3, -2 }));
        Assert.That(result.Best.Configuration.Get<int>("layers"), Is.EqualTo(1));
        Assert.That(Math.Log10(result.Best.Configuration.Get<double>("lr")), Is.EqualTo(-3).Within(1e-12));
    }

    [Test]
    public void Successive_halving_keeps_the_best_third_and_triples_their_budget()
    {
        var calls = new List<(string Config, int Budget)>();
        double Noisy(Configuration c, int budget, int seed)
        {
            calls.Add((c.ToString(), budget));
            // A longer budget measures the true score more exactly; a diverged run gives NaN.
            if (c.Get<double>("lr") > 0.05) return double.NaN;
            return Objective(c, budget, seed) + new Random(seed + budget).NextDouble() * 0.1 / budget;
        }
        var result = HyperparameterSearch.SuccessiveHalving(Space(), Noisy, trials: 27, minBudget: 1, maxBudget: 27, eta: 3, seed: 2);
        Assert.That(calls.GroupBy(c => c.Budget).Select(g => (g.Key, g.Count())), Is.EqualTo(new[] { (1, 27), (3, 9), (9, 3), (27, 1) }));
        var round1 = result.Trials.Where(t => t.Budget == 1).OrderBy(t => double.IsFinite(t.Score) ? -t.Score : double.PositiveInfinity).Take(9).Select(t => t.Id);
        Assert.That(result.Trials.Where(t => t.Budget == 3).Select(t => t.Id), Is.EquivalentTo(round1), "the survivors are round 1's best nine");
        Assert.That(result.Best.Budget, Is.EqualTo(27));
        Assert.That(result.Trials.Where(t => t.Budget > 1).All(t => double.IsFinite(t.Score)), "a NaN (diverged) trial never survives");
        var again = HyperparameterSearch.SuccessiveHalving(Space(), (c, b, s) => Noisy(c, b, s), trials: 27, minBudget: 1, maxBudget: 27, eta: 3, seed: 2);
        Assert.That(again.Best.Configuration.ToString(), Is.EqualTo(result.Best.Configuration.ToString()), "reproducible under the seed");
    }

    [Test]
    public void Bad_input_is_refused_before_any_trial()
    {
        int calls = 0;
        double Count(Configuration c, int b, int s) { calls++; return 0; }
        Assert.Throws<ArgumentException>(() => new SearchSpace().Add("lr", new SearchSpace.LogUniform(0, 1)));
        Assert.Throws<ArgumentException>(() => new SearchSpace().Add("p", new SearchSpace.Uniform(1, 0)));
        Assert.Throws<ArgumentException>(() => new SearchSpace().Add("c", new SearchSpace.Categorical([])));
        Assert.Throws<ArgumentException>(() => Space().Add("lr", new SearchSpace.Uniform(0, 1)));
        Assert.Throws<ArgumentException>(() => HyperparameterSearch.Random(new SearchSpace(), Count, 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => HyperparameterSearch.Random(Space(), Count, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => HyperparameterSearch.SuccessiveHalving(Space(), Count, 9, 3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => HyperparameterSearch.SuccessiveHalving(Space(), Count, 9, 1, 9, eta: 1));
        Assert.That(calls, Is.Zero);
        Assert.Throws<KeyNotFoundException>(() => Space().Draw(new Random(0)).Get<double>("momentum"));
    }
}
