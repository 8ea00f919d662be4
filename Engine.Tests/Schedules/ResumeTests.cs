using Engine.Schedules;

namespace Engine.Tests.Schedules;

/// <summary>
/// A run stopped after k steps and resumed from <see cref="LRScheduler.StateDict"/>, written to JSON
/// and read back, by a new scheduler on a new optimizer built with default hyperparameters (the
/// optimizer's own state is not loaded), sets exactly, bit for bit, the learning rates and momentum
/// of a run that was never interrupted, for every schedule: every PyTorch configuration of the
/// fixture (sequential and chained included), the Keras and seed schedules, and
/// ReduceLROnPlateau, resumed at several points (the first step, mid-phase, on milestones and
/// restarts, in cooldown).
/// </summary>
public class ResumeTests
{
    static readonly int[] Fractions = [1, 3, 5, 7]; // resume at 1/8, 3/8, 5/8, 7/8 of the run

    static IEnumerable<int> SplitPoints(int steps, params int[] extra) =>
        new[] { 1, steps - 1 }.Concat(Fractions.Select(f => steps * f / 8)).Concat(extra).Where(k => k >= 1 && k < steps).Distinct().Order();

    static IEnumerable<TestCaseData> ScheduleCases_()
    {
        foreach (var (name, make) in ScheduleCases.PyTorch)
        {
            var config = ScheduleFixture.Configs[name];
            yield return new TestCaseData(make, config.Optimizer, config.Steps).SetName($"{name}_resumed_from_state_dict_continues_exactly");
        }
        foreach (var (name, (make, steps)) in ScheduleCases.EngineOnly)
            yield return new TestCaseData(make, "sgd", steps).SetName($"{name}_resumed_from_state_dict_continues_exactly");
    }

    static IEnumerable<TestCaseData> PlateauCases() =>
        ScheduleCases.Plateaus.Keys.Select(name => new TestCaseData(name).SetName($"{name}_resumed_from_state_dict_continues_exactly"));

    /// <summary>Milestones, restarts and phase ends where resuming is most likely to go wrong.</summary>
    static readonly int[] Landmarks = [10, 12, 15, 20, 29, 30, 31, 40, 60, 70, 90, 100, 101, 150];

    [TestCaseSource(nameof(ScheduleCases_))]
    public void Resumed_run_equals_uninterrupted_run(Func<Schedule[]> make, string optimizer, int steps)
    {
        var (lrs, momenta) = Run(make, optimizer, steps);
        foreach (int k in SplitPoints(steps, Landmarks))
        {
            string json;
            using (var first = new TwoGroups(optimizer))
            {
                var scheduler = new Scheduler(first.Optimizer, make());
                for (int t = 1; t <= k; t++) scheduler.Step();
                json = scheduler.StateDict().ToJson();
            }
            using var second = new TwoGroups(optimizer, defaults: true);
            var resumed = new Scheduler(second.Optimizer, make());
            resumed.LoadStateDict(SchedulerState.FromJson(json));
            Assert.That(resumed.LastStep, Is.EqualTo(k));
            Assert.That(second.Lrs, Is.EqualTo(lrs[k]), $"resumed at {k}: the learning rates restored");
            for (int t = k + 1; t <= steps; t++)
            {
                resumed.Step();
                Assert.That(second.Lrs, Is.EqualTo(lrs[t]), $"resumed at {k}, step {t}");
                Assert.That(resumed.LastMomentums, Is.EqualTo(momenta[t]), $"resumed at {k}, step {t}: momentum");
                for (int g = 0; g < 2; g++)
                    if (momenta[t][g] is { } m) Assert.That(second.Momenta[g], Is.EqualTo(m), $"resumed at {k}, step {t}: group {g}'s momentum");
            }
        }
    }

    static (double[][] Lrs, double?[][] Momenta) Run(Func<Schedule[]> make, string optimizer, int steps)
    {
        using var opt = new TwoGroups(optimizer);
        var scheduler = new Scheduler(opt.Optimizer, make());
        var lrs = new double[steps + 1][];
        var momenta = new double?[steps + 1][];
        for (int t = 0; t <= steps; t++)
        {
            if (t > 0) scheduler.Step();
            lrs[t] = opt.Lrs;
            momenta[t] = scheduler.LastMomentums.ToArray();
        }
        return (lrs, momenta);
    }

    [TestCaseSource(nameof(PlateauCases))]
    public void Plateau_resumed_run_equals_uninterrupted_run(string name)
    {
        var config = ScheduleFixture.Configs[name];
        var metrics = config.Metrics!;
        var make = ScheduleCases.Plateaus[name];
        var lrs = new double[config.Steps + 1][];
        using (var opt = new TwoGroups())
        {
            var plateau = make(opt.Optimizer);
            lrs[0] = opt.Lrs;
            for (int t = 1; t <= config.Steps; t++)
            {
                plateau.Step(metrics[t - 1]);
                lrs[t] = opt.Lrs;
            }
        }
        int checkedInCooldown = 0;
        for (int k = 1; k < config.Steps; k++) // every split point: before, during and after each reduction and cooldown
        {
            string json;
            using (var first = new TwoGroups())
            {
                var plateau = make(first.Optimizer);
                for (int t = 1; t <= k; t++) plateau.Step(metrics[t - 1]);
                if (plateau.InCooldown) checkedInCooldown++;
                json = plateau.StateDict().ToJson();
            }
            using var second = new TwoGroups(defaults: true);
            var resumed = new ReduceLROnPlateau(second.Optimizer); // default hyperparameters: the state brings the saved ones
            resumed.LoadStateDict(SchedulerState.FromJson(json));
            for (int t = k + 1; t <= config.Steps; t++)
            {
                resumed.Step(metrics[t - 1]);
                Assert.That(second.Lrs, Is.EqualTo(lrs[t]), $"resumed at {k}, step {t}");
            }
        }
        using var probe = new TwoGroups();
        if (make(probe.Optimizer).Cooldown > 0)
            Assert.That(checkedInCooldown, Is.GreaterThan(0), "some split points fall in a cooldown");
    }

    [Test]
    public void State_holds_plain_numbers_and_round_trips_through_json()
    {
        using var opt = new TwoGroups();
        var scheduler = new OneCycleLR(0.5, 100).Attach(opt.Optimizer, StepEvery.Batch);
        for (int i = 0; i < 37; i++) scheduler.Step();
        var state = scheduler.StateDict();
        var back = SchedulerState.FromJson(state.ToJson());
        Assert.That(back.Kind, Is.EqualTo("Scheduler"));
        Assert.That(back.LastStep, Is.EqualTo(37));
        Assert.That(back.LastLearningRates, Is.EqualTo(state.LastLearningRates));
        Assert.That(back.BaseLearningRates, Is.EqualTo(state.BaseLearningRates));
        Assert.That(back.LastMomentums, Is.EqualTo(state.LastMomentums));
        Assert.That(back.Schedule, Is.EqualTo(state.Schedule));

        var plateau = new ReduceLROnPlateau(opt.Optimizer);
        var fresh = SchedulerState.FromJson(plateau.StateDict().ToJson());
        Assert.That(fresh.Values["best"], Is.EqualTo(double.PositiveInfinity), "a fresh plateau's best (+inf) survives JSON");
    }
}
