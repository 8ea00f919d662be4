using Engine.Recipe;
using static Engine.Tests.Recipe.RecipeModels;

namespace Engine.Tests.Recipe;

/// <summary>The LR range test: fastai's suggestion rules traced by hand, the sweep's formula, the
/// suggestion on a quadratic whose divergence bound is known, and exact restoration.</summary>
public class LearningRateFinderTests
{
    // lds (longest strictly decreasing run ending at i) = 1 2 2 3 4 5 5 6 4 1; fastai's loop ends
    // with max_end = 7, max_start = 7 − 6 = 1, sections = 2, idx = 1 + 2 + 1 = 4.
    static readonly double[] Lrs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    static readonly double[] Curve = [5, 4, 4.5, 3, 2, 1, 1.5, 0.5, 2, 8];

    [Test]
    public void Valley_follows_fastai_on_a_curve_traced_by_hand() =>
        Assert.That(LrSuggestions.Valley(Lrs, Curve), Is.EqualTo(5.0));

    [Test]
    public void Steepest_is_the_left_point_of_the_most_negative_slope_against_log_lr()
    {
        // Slopes (Δloss / Δln lr): the most negative is (0.5 − 1.5)/ln(8/7) = −7.49, from lr 7.
        Assert.That(LrSuggestions.Steepest(Lrs, Curve), Is.EqualTo(7.0));
        Assert.That(LrSuggestions.MinimumOverTen(Lrs, Curve), Is.EqualTo(0.8).Within(1e-15));
    }

    [Test]
    public void Sweeps_follow_fastai_position_i_over_steps()
    {
        var exp = new LrFinderOptions { StartLr = 1e-4, EndLr = 1, Steps = 4 };
        Assert.That(LearningRateFinder.LearningRateAt(exp, 0), Is.EqualTo(1e-4));
        Assert.That(LearningRateFinder.LearningRateAt(exp, 2), Is.EqualTo(1e-2).Within(1e-15));
        var lin = new LrFinderOptions { StartLr = 0.1, EndLr = 1.1, Steps = 4, Sweep = LrSweep.Linear };
        Assert.That(LearningRateFinder.LearningRateAt(lin, 2), Is.EqualTo(0.6).Within(1e-15));
    }

    /// <summary>Full-batch gradient descent on L(w) = (1/N)‖Xw − y‖², Hessian H = (2/N)XᵀX:
    /// it converges for lr &lt; 2/λ_max(H) and diverges above. λ_max comes from eigvalsh in float64.</summary>
    [Test]
    public void On_a_quadratic_the_suggestions_fall_below_the_divergence_bound_2_over_lambda_max()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(20);
        var x = randn(64, 8, generator: g).mul(linspace(0.5, 3, 8));
        var y = x.mm(randn(8, 1, generator: g));
        var h = x.to(ScalarType.Float64).t().mm(x.to(ScalarType.Float64)).mul(2.0 / 64);
        double lambdaMax = linalg.eigvalsh(h).max().item<double>();
        double critical = 2 / lambdaMax;

        manual_seed(20);
        using var model = nn.Linear(8, 1, hasBias: false);
        using var sgd = optim.SGD(model.parameters(), 0.1);
        LrFinderResult? plotted = null;
        var result = LearningRateFinder.Run(model, sgd, Mse, new[] { (x, y) },
            new LrFinderOptions { StartLr = 1e-4 * critical, EndLr = 100 * critical, Steps = 100 }, r => plotted = r);
        TestContext.Out.WriteLine($"2/λmax {critical:G4}; valley {result.Valley:G4}, steepest {result.Steepest:G4}, min/10 {result.MinimumOverTen:G4}; stopped at lr {result.LearningRates[^1]:G4} after {result.LearningRates.Count} steps");

        Assert.That(plotted, Is.SameAs(result));
        Assert.That(result.Diverged, Is.True);
        Assert.That(result.LearningRates[^1], Is.GreaterThan(critical), "GD cannot diverge below 2/λmax");
        // Below the bound the raw loss never rises (a quadratic under GD with lr < 2/λmax).
        for (int i = 1; i < result.RawLosses.Count && result.LearningRates[i] < critical; i++)
            Assert.That(result.RawLosses[i], Is.LessThanOrEqualTo(result.RawLosses[i - 1] * (1 + 1e-5)), $"step {i}");
        // The useful range: below the divergence bound, above a hundredth of it (slower than that
        // and the largest-curvature direction takes over 100× the steps of the best rate).
        foreach (var lr in new[] { result.Valley, result.Steepest, result.MinimumOverTen })
            Assert.That(lr, Is.InRange(critical / 100, critical));
    }

    [Test]
    public void Model_buffers_and_optimizer_state_are_restored_bit_exactly()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Classification(21);
        manual_seed(21);
        using var model = nn.Sequential(("fc1", nn.Linear(4, 16)), ("bn", nn.BatchNorm1d(16)), ("relu", nn.ReLU()), ("fc2", nn.Linear(16, 3)));
        using var adam = optim.Adam(model.parameters(), 1e-3);
        for (int i = 0; i < 5; i++)
        {
            adam.zero_grad();
            CrossEntropy(model.call(x), y).backward();
            adam.step();
        }
        model.train();
        ((nn.Module)model[1]).eval(); // a frozen BatchNorm inside a model in train mode
        var weights = Weights(model);
        var state = StateSnapshot.OptimizerBytes(adam);
        var lr = adam.ParamGroups.First().LearningRate;

        var result = LearningRateFinder.Run(model, adam, CrossEntropy, Batches(x, y), new LrFinderOptions { Steps = 40, StartLr = 1e-5, EndLr = 10 });
        Assert.That(result.LearningRates.Count, Is.GreaterThan(5));
        Assert.That(Weights(model), Is.EqualTo(weights));
        Assert.That(StateSnapshot.OptimizerBytes(adam), Is.EqualTo(state));
        Assert.That(adam.ParamGroups.First().LearningRate, Is.EqualTo(lr));
        Assert.That(model.training, Is.True);
        Assert.That(((nn.Module)model[1]).training, Is.False);
        Assert.That(((nn.Module)model[0]).training, Is.True);
    }

    [Test]
    public void Bad_settings_are_refused_before_anything_runs()
    {
        using var model = Mlp(22);
        using var sgd = optim.SGD(model.parameters(), 0.1);
        var (x, y) = Classification(22);
        Assert.That(() => LearningRateFinder.Run(model, sgd, CrossEntropy, new[] { (x, y) }, new LrFinderOptions { StartLr = 1, EndLr = 0.1 }),
            Throws.ArgumentException.With.Message.Contains("StartLr < EndLr"));
    }
}
