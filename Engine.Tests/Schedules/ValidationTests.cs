using Engine.Schedules;

namespace Engine.Tests.Schedules;

/// <summary>Bad input is refused where it is given, with an ArgumentException whose message names
/// the schedule and the offending value: negative steps, empty or unsorted milestones and
/// boundaries, non-positive periods (T_0, T_max, step sizes), warmups longer than the run,
/// factors out of range, mismatched per-group lists.</summary>
public class ValidationTests
{
    static IEnumerable<TestCaseData> Cases()
    {
        // name, the bad call, words the message must contain
        var cases = new (string, Action, string[])[]
        {
            ("negative_step", () => new StepLR(10).LearningRate(-1, 0.1), ["StepLR", "step", "-1"]),
            ("negative_step_cosine", () => new CosineAnnealingLR(10).LearningRate(-5, 0.1), ["CosineAnnealingLR", "-5"]),
            ("negative_step_sequential", () => Schedule.WarmupCosine(10, 100).LearningRate(-2, 0.1), ["SequentialLR", "-2"]),
            ("negative_step_momentum", () => new OneCycleLR(0.1, 100).Momentum(-3), ["OneCycleLR", "-3"]),
            ("negative_step_position", () => new CosineAnnealingWarmRestarts(10).Position(-1), ["CosineAnnealingWarmRestarts", "-1"]),
            ("negative_trajectory_count", () => new StepLR(10).Trajectory(-4, 0.1), ["StepLR", "-4"]),
            ("step_size_zero", () => new StepLR(0), ["StepLR", "stepSize", "0"]),
            ("step_gamma_nan", () => new StepLR(10, double.NaN), ["StepLR", "gamma", "NaN"]),
            ("multistep_empty_milestones", () => new MultiStepLR([]), ["MultiStepLR", "milestones", "empty"]),
            ("multistep_unsorted_milestones", () => new MultiStepLR([30, 90, 60]), ["MultiStepLR", "increasing", "60 after 90"]),
            ("multistep_repeated_milestone", () => new MultiStepLR([30, 30]), ["MultiStepLR", "30 after 30"]),
            ("multistep_negative_milestone", () => new MultiStepLR([-1, 30]), ["MultiStepLR", "-1"]),
            ("piecewise_unsorted_boundaries", () => new PiecewiseConstantDecay([300, 200, 800], [0.1, 0.01, 0.001, 0.0001]), ["PiecewiseConstantDecay", "boundaries", "200 after 300"]),
            ("piecewise_empty_boundaries", () => new PiecewiseConstantDecay([], [0.1]), ["PiecewiseConstantDecay", "empty"]),
            ("piecewise_value_count", () => new PiecewiseConstantDecay([300, 600], [0.1, 0.01]), ["PiecewiseConstantDecay", "3 values", "got 2"]),
            ("piecewise_negative_value", () => new PiecewiseConstantDecay([300], [0.1, -0.01]), ["PiecewiseConstantDecay", "-0.01"]),
            ("warm_restarts_t0_zero", () => new CosineAnnealingWarmRestarts(0), ["CosineAnnealingWarmRestarts", "T_0", "0"]),
            ("warm_restarts_t0_negative", () => new CosineAnnealingWarmRestarts(-10), ["CosineAnnealingWarmRestarts", "T_0", "-10"]),
            ("warm_restarts_tmult_zero", () => new CosineAnnealingWarmRestarts(10, 0), ["CosineAnnealingWarmRestarts", "T_mult", "0"]),
            ("warm_restarts_negative_eta_min", () => new CosineAnnealingWarmRestarts(10, 1, -1e-3), ["CosineAnnealingWarmRestarts", "etaMin", "-0.001"]),
            ("cosine_tmax_zero", () => new CosineAnnealingLR(0), ["CosineAnnealingLR", "tMax", "0"]),
            ("cosine_eta_min_and_alpha", () => new CosineAnnealingLR(100, etaMin: 1e-3, alpha: 0.1), ["CosineAnnealingLR", "etaMin", "alpha", "not both"]),
            ("cosine_alpha_above_one", () => new CosineAnnealingLR(100, alpha: 1.5), ["CosineAnnealingLR", "alpha", "1.5"]),
            ("linear_negative_start", () => new LinearLR(-0.1), ["LinearLR", "startFactor", "-0.1"]),
            ("linear_end_above_one", () => new LinearLR(0.1, 1.5), ["LinearLR", "endFactor", "1.5"]),
            ("linear_total_zero", () => new LinearLR(0.1, 1, 0), ["LinearLR", "totalIters", "0"]),
            ("constant_factor_above_one", () => new ConstantLR(1.5), ["ConstantLR", "factor", "1.5"]),
            ("constant_total_zero", () => new ConstantLR(0.5, 0), ["ConstantLR", "totalIters", "0"]),
            ("constant_negative_value", () => new Constant(-0.1), ["Constant", "-0.1"]),
            ("exponential_negative_gamma", () => new ExponentialLR(-0.9), ["ExponentialLR", "gamma", "-0.9"]),
            ("exponential_decay_steps_zero", () => new ExponentialLR(0.9, decaySteps: 0), ["ExponentialLR", "decaySteps", "0"]),
            ("polynomial_total_zero", () => new PolynomialLR(0), ["PolynomialLR", "totalIters", "0"]),
            ("polynomial_negative_power", () => new PolynomialLR(10, -1), ["PolynomialLR", "power", "-1"]),
            ("inverse_time_decay_steps_zero", () => new InverseTimeDecay(0, 0.5), ["InverseTimeDecay", "decaySteps", "0"]),
            ("inverse_time_negative_rate", () => new InverseTimeDecay(10, -0.5), ["InverseTimeDecay", "decayRate", "-0.5"]),
            ("inverse_sqrt_timescale_zero", () => new InverseSqrt(0), ["InverseSqrt", "timescale", "0"]),
            ("onecycle_pct_above_one", () => new OneCycleLR(0.1, 100, pctStart: 1.2), ["OneCycleLR", "pctStart", "1.2"]),
            ("onecycle_warmup_fills_the_run", () => new OneCycleLR(0.1, 100, pctStart: 1.0), ["OneCycleLR", "pctStart 1", "warm-up"]),
            ("onecycle_empty_warmup", () => new OneCycleLR(0.1, 100, pctStart: 0.0), ["OneCycleLR", "pctStart 0", "-1"]),
            ("onecycle_run_too_short", () => new OneCycleLR(0.1, 3), ["OneCycleLR", "totalSteps 3"]),
            ("onecycle_three_phase_overlap", () => new OneCycleLR(0.1, 100, pctStart: 0.6, threePhase: true), ["OneCycleLR", "pctStart 0.6"]),
            ("onecycle_total_zero", () => new OneCycleLR(0.1, 0), ["OneCycleLR", "totalSteps", "0"]),
            ("onecycle_max_lr_zero", () => new OneCycleLR(0, 100), ["OneCycleLR", "maxLr", "0"]),
            ("onecycle_div_factor_zero", () => new OneCycleLR(0.1, 100, divFactor: 0), ["OneCycleLR", "divFactor", "0"]),
            ("onecycle_past_the_end", () => new OneCycleLR(0.1, 100).LearningRate(101, 0.1), ["OneCycleLR", "102 times", "100"]),
            ("cyclic_step_up_zero", () => new CyclicLR(0.01, 0.1, 0), ["CyclicLR", "stepSizeUp", "0"]),
            ("cyclic_step_down_negative", () => new CyclicLR(0.01, 0.1, 10, -5), ["CyclicLR", "stepSizeDown", "-5"]),
            ("cyclic_gamma_zero", () => new CyclicLR(0.01, 0.1, 10, mode: CyclicMode.ExpRange, gamma: 0), ["CyclicLR", "gamma", "0"]),
            ("cyclic_negative_base_lr", () => new CyclicLR(-0.01, 0.1), ["CyclicLR", "baseLr", "-0.01"]),
            ("lambda_null", () => new LambdaLR(null!), ["LambdaLR", "lrLambda"]),
            ("multiplicative_null", () => new MultiplicativeLR(null!), ["MultiplicativeLR", "lrLambda"]),
            ("lambda_step_beyond_int", () => new LambdaLR(e => 1).LearningRate(3_000_000_000, 0.1), ["LambdaLR", "3000000000"]),
            ("warmup_cosine_warmup_longer_than_run", () => Schedule.WarmupCosine(200, 100), ["WarmupCosine", "200 steps", "100 steps"]),
            ("warmup_cosine_warmup_equal_to_run", () => Schedule.WarmupCosine(100, 100), ["WarmupCosine", "shorter than the run"]),
            ("with_warmup_zero", () => new CosineAnnealingLR(100).WithWarmup(0), ["CosineAnnealingLR.WithWarmup", "0"]),
            ("hold_after_negative", () => new CosineAnnealingLR(100).HoldAfter(-1), ["HoldAfter", "-1"]),
            ("sequential_empty_milestones", () => new SequentialLR([new LinearLR(), new StepLR(10)], []), ["SequentialLR", "2 schedules need 1 milestones", "got 0"]),
            ("sequential_milestone_count", () => new SequentialLR([new LinearLR(), new StepLR(10)], [5, 10]), ["SequentialLR", "got 2"]),
            ("sequential_unsorted_milestones", () => new SequentialLR([new LinearLR(), new StepLR(10), new ExponentialLR(0.9)], [20, 10]), ["SequentialLR", "milestones", "10 after 20"]),
            ("sequential_milestone_zero", () => new SequentialLR([new LinearLR(), new StepLR(10)], [0]), ["SequentialLR", "milestones", ">= 1"]),
            ("sequential_one_schedule", () => new SequentialLR([new StepLR(10)], []), ["SequentialLR", "at least 2"]),
            ("sequential_null_schedule", () => new SequentialLR([new StepLR(10), null!], [5]), ["SequentialLR", "schedule 1"]),
            ("chained_empty", () => new ChainedScheduler(), ["ChainedScheduler", "at least one"]),
        };
        foreach (var (name, call, words) in cases)
            yield return new TestCaseData(call, words).SetName($"{name}_is_refused_with_a_clear_error");
    }

    [TestCaseSource(nameof(Cases))]
    public void Bad_input_throws_ArgumentException_naming_schedule_and_value(Action call, string[] words)
    {
        var e = Assert.Throws(Is.InstanceOf<ArgumentException>(), () => call())!;
        foreach (var word in words) Assert.That(e.Message, Does.Contain(word));
    }

    static IEnumerable<TestCaseData> OptimizerCases()
    {
        var cases = new (string, Action<TwoGroups>, string[])[]
        {
            ("scheduler_schedule_count", o => new Scheduler(o.Optimizer, [new StepLR(10)]), ["2 parameter groups need 2 schedules", "got 1"]),
            ("onecycle_on_optimizer_without_momentum", o => new OneCycleLR(0.1, 100).Attach(o.Optimizer), ["OneCycleLR cycles momentum", "Adagrad", "cycleMomentum: false"]),
            ("cyclic_on_optimizer_without_momentum", o => new CyclicLR(0.01, 0.1).Attach(o.Optimizer), ["CyclicLR cycles momentum", "Adagrad"]),
            ("sequential_with_onecycle_on_optimizer_without_momentum",
                o => new SequentialLR([new LinearLR(), new OneCycleLR(0.1, 100)], [5]).Attach(o.Optimizer), ["SequentialLR cycles momentum"]),
            ("plateau_factor_one", o => new ReduceLROnPlateau(o.Optimizer, factor: 1.0), ["ReduceLROnPlateau", "factor", "1"]),
            ("plateau_negative_patience", o => new ReduceLROnPlateau(o.Optimizer, patience: -1), ["ReduceLROnPlateau", "patience", "-1"]),
            ("plateau_negative_cooldown", o => new ReduceLROnPlateau(o.Optimizer, cooldown: -2), ["ReduceLROnPlateau", "cooldown", "-2"]),
            ("plateau_negative_threshold", o => new ReduceLROnPlateau(o.Optimizer, threshold: -1e-4), ["ReduceLROnPlateau", "threshold", "-0.0001"]),
            ("plateau_negative_min_lr", o => new ReduceLROnPlateau(o.Optimizer, minLr: -1e-6), ["ReduceLROnPlateau", "minLr", "-1E-06"]),
            ("plateau_min_lr_count", o => new ReduceLROnPlateau(o.Optimizer, minLrPerGroup: [1e-3]), ["ReduceLROnPlateau", "2 minimum learning rates", "got 1"]),
            ("plateau_negative_eps", o => new ReduceLROnPlateau(o.Optimizer, eps: -1), ["ReduceLROnPlateau", "eps", "-1"]),
        };
        foreach (var (name, call, words) in cases)
            yield return new TestCaseData(call, words).SetName($"{name}_is_refused_with_a_clear_error");
    }

    [TestCaseSource(nameof(OptimizerCases))]
    public void Bad_attachment_throws_ArgumentException(Action<TwoGroups> call, string[] words)
    {
        using var o = new TwoGroups("adagrad");
        var lrs = o.Lrs;
        var e = Assert.Throws(Is.InstanceOf<ArgumentException>(), () => call(o))!;
        foreach (var word in words) Assert.That(e.Message, Does.Contain(word));
        Assert.That(o.Lrs, Is.EqualTo(lrs), "a refused scheduler leaves the optimizer as it was");
    }

    [Test]
    public void A_null_optimizer_or_schedule_is_refused_by_name()
    {
        Assert.That(() => new StepLR(10).Attach(null!), Throws.ArgumentNullException.With.Message.Contains("Scheduler: optimizer is null"));
        Assert.That(() => new ReduceLROnPlateau(null!), Throws.ArgumentNullException.With.Message.Contains("ReduceLROnPlateau: optimizer is null"));
        using var o = new TwoGroups();
        Assert.That(() => new Scheduler(o.Optimizer, (Schedule)null!), Throws.ArgumentNullException.With.Message.Contains("Scheduler: schedule is null"));
    }

    [Test]
    public void Stepping_onecycle_past_its_end_throws_and_changes_nothing()
    {
        using var o = new TwoGroups();
        var scheduler = new OneCycleLR(0.1, 10).Attach(o.Optimizer, StepEvery.Batch);
        for (int i = 0; i < 10; i++) scheduler.Step(); // step 10 = totalSteps is allowed, as in PyTorch
        var lrs = o.Lrs;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.Step())!;
        Assert.That(e.Message, Does.Contain("OneCycleLR: tried to step 12 times"));
        Assert.That(scheduler.LastStep, Is.EqualTo(10));
        Assert.That(o.Lrs, Is.EqualTo(lrs));
    }

    [Test]
    public void Loading_a_state_of_another_schedule_or_kind_is_refused()
    {
        using var o = new TwoGroups();
        var cosine = new CosineAnnealingLR(100).Attach(o.Optimizer);
        cosine.Step();
        var state = cosine.StateDict();
        var other = new CosineAnnealingLR(200).Attach(o.Optimizer);
        var e = Assert.Throws<ArgumentException>(() => other.LoadStateDict(state))!;
        Assert.That(e.Message, Does.Contain("tMax: 100").And.Contain("tMax: 200"));
        state.Schedule = null; // on purpose: resume with a longer cosine
        other.LoadStateDict(state);
        Assert.That(other.LastStep, Is.EqualTo(1));

        var plateau = new ReduceLROnPlateau(o.Optimizer);
        Assert.That(() => plateau.LoadStateDict(state), Throws.ArgumentException.With.Message.Contains("the state is of a Scheduler"));
        Assert.That(() => cosine.LoadStateDict(plateau.StateDict()), Throws.ArgumentException.With.Message.Contains("the state is of a ReduceLROnPlateau"));
    }

    [Test]
    public void Plateau_stepped_by_the_training_loop_without_a_metric_says_what_it_needs()
    {
        using var o = new TwoGroups();
        var plateau = new ReduceLROnPlateau(o.Optimizer);
        Assert.That(() => plateau.OnEpochEnd(), Throws.InvalidOperationException.With.Message.Contains("metric"));
    }
}
