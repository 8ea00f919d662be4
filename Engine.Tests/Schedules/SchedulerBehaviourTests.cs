using Engine.Schedules;
using TorchSharp.Modules;

namespace Engine.Tests.Schedules;

/// <summary>How a Scheduler drives a TorchSharp optimizer: step 0 at construction, per batch or per
/// epoch, momentum through the groups' IMomentum (SGD, RMSprop) or IBetas (Adam family, β₁) or the
/// optimizer's own, two schedulers on one optimizer chaining as PyTorch's do, HoldAfter, and the
/// pure face usable in any order.</summary>
public class SchedulerBehaviourTests
{
    [Test]
    public void Attaching_sets_the_learning_rate_of_step_0()
    {
        using var o = new TwoGroups();
        Assert.That(o.Optimizer.ParamGroups.Select(g => g.InitialLearningRate), Is.EqualTo(TwoGroups.GroupLrs),
            "TorchSharp's optimizers set each group's InitialLearningRate (PyTorch's initial_lr) to the lr they are built with");
        var scheduler = new LinearLR(0.1, 1.0, 10).Attach(o.Optimizer);
        Assert.That(o.Lrs, Is.EqualTo(new[] { 0.1 * 0.1, 0.05 * 0.1 }));
        Assert.That(scheduler.LastStep, Is.EqualTo(0));
        Assert.That(scheduler.BaseLearningRates, Is.EqualTo(TwoGroups.GroupLrs));
        Assert.That(o.Optimizer.ParamGroups.Select(g => g.InitialLearningRate), Is.EqualTo(TwoGroups.GroupLrs));
    }

    [Test]
    public void A_group_whose_initial_lr_was_never_set_starts_from_its_lr()
    {
        // A user's OptimizerHelper may leave InitialLearningRate unset; the base lr is then the
        // group's lr, as PyTorch's scheduler does with setdefault('initial_lr', lr).
        using var p = new Parameter(zeros(2));
        var optimizer = new PlainOptimizer([new ParamGroup<OptimizerOptions>([p], new OptimizerOptions { LearningRate = 0.2 })]);
        var scheduler = new StepLR(1, 0.5).Attach(optimizer);
        scheduler.Step();
        Assert.That(scheduler.BaseLearningRates, Is.EqualTo(new[] { 0.2 }));
        Assert.That(optimizer.ParamGroups.Single().InitialLearningRate, Is.EqualTo(0.2));
        Assert.That(optimizer.ParamGroups.Single().LearningRate, Is.EqualTo(0.1));
    }

    sealed class PlainOptimizer : OptimizerHelper
    {
        public PlainOptimizer(IEnumerable<TorchSharp.Modules.ParamGroup> groups)
        {
            _defaults = new OptimizerOptions { LearningRate = 0.1 };
            _parameter_groups = groups.ToList();
        }

        public override Tensor step(Func<Tensor>? closure = null) => _step<TorchSharp.Modules.ParamGroup>(_ => { }, closure);
    }

    [Test]
    public void A_per_batch_scheduler_steps_on_batches_and_a_per_epoch_one_on_epochs()
    {
        using var o = new TwoGroups();
        var perBatch = new StepLR(2, 0.5).Attach(o.Optimizer, StepEvery.Batch);
        using var o2 = new TwoGroups();
        var perEpoch = new StepLR(2, 0.5).Attach(o2.Optimizer, StepEvery.Epoch);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            for (int batch = 0; batch < 4; batch++)
            {
                perBatch.OnBatchEnd();
                perEpoch.OnBatchEnd();
            }
            perBatch.OnEpochEnd(0.5);
            perEpoch.OnEpochEnd(0.5);
        }
        Assert.That(perBatch.LastStep, Is.EqualTo(12));
        Assert.That(perEpoch.LastStep, Is.EqualTo(3));
        Assert.That(o.Lrs[0], Is.EqualTo(0.1 * Math.Pow(0.5, 6)).Within(1e-17));
        Assert.That(o2.Lrs[0], Is.EqualTo(0.1 * 0.5).Within(1e-17));
    }

    [TestCase("adam")]
    [TestCase("adamw")]
    [TestCase("sgd")]
    [TestCase("rmsprop")]
    public void OneCycle_cycles_the_groups_momentum_or_beta1_and_leaves_beta2(string kind)
    {
        var schedule = new OneCycleLR(0.5, 100, baseMomentum: 0.8, maxMomentum: 0.9);
        using var o = new TwoGroups(kind);
        double? defaultMomentum = (o.Optimizer as torch.optim.IMomentum)?.Momentum;
        var scheduler = schedule.Attach(o.Optimizer, StepEvery.Batch);
        Assert.That(o.Momenta, Is.EqualTo(new double?[] { 0.9, 0.9 }), "step 0: the maximum momentum");
        for (int t = 1; t <= 30; t++) scheduler.Step();
        double expected = schedule.Momentum(30)!.Value;
        Assert.That(expected, Is.LessThan(0.81), "at the peak of the lr the momentum is near its base");
        Assert.That(o.Momenta, Is.EqualTo(new double?[] { expected, expected }));
        foreach (var g in o.Optimizer.ParamGroups)
            if (g is torch.optim.IBetas b) Assert.That(b.Betas.Item2, Is.EqualTo(0.999), "beta2 is left alone");
        if (o.Optimizer is torch.optim.IMomentum m)
            Assert.That(m.Momentum, Is.EqualTo(defaultMomentum), "the optimizer's own Momentum (its defaults for new groups) is left alone: the groups have theirs");
    }

    /// <summary>An optimizer as a user (or Engine) writes it on TorchSharp's OptimizerHelper: plain
    /// ParamGroups (ILearningRateController only), the momentum a property of the optimizer.</summary>
    sealed class SharedMomentumOptimizer : OptimizerHelper, torch.optim.IMomentum
    {
        public SharedMomentumOptimizer(IEnumerable<Parameter> parameters, double lr)
        {
            _defaults = new OptimizerOptions { LearningRate = lr, InitialLearningRate = lr };
            _parameter_groups = new List<TorchSharp.Modules.ParamGroup>();
            foreach (var p in parameters)
                _parameter_groups.Add(new ParamGroup<OptimizerOptions>([p], new OptimizerOptions { LearningRate = lr, InitialLearningRate = lr }));
        }

        public double Momentum { get; set; } = 0.5;

        public override Tensor step(Func<Tensor>? closure = null) => _step<TorchSharp.Modules.ParamGroup>(_ => { }, closure);
    }

    [Test]
    public void Momentum_falls_back_to_the_optimizer_when_groups_have_none()
    {
        using var p1 = new Parameter(zeros(2));
        using var p2 = new Parameter(zeros(2));
        var optimizer = new SharedMomentumOptimizer([p1, p2], 0.1);
        var schedule = new CyclicLR(0.01, 0.1, 10);
        var scheduler = schedule.Attach(optimizer, StepEvery.Batch);
        Assert.That(optimizer.Momentum, Is.EqualTo(0.9), "step 0: the maximum momentum");
        for (int t = 1; t <= 7; t++) scheduler.Step();
        Assert.That(optimizer.Momentum, Is.EqualTo(schedule.Momentum(7)));
        Assert.That(optimizer.ParamGroups.Select(g => g.LearningRate), Is.EqualTo(new[] { schedule.LearningRate(7, 0.1), schedule.LearningRate(7, 0.1) }));
        // One momentum for all groups: different momentum schedules per group are refused.
        var e = Assert.Throws<ArgumentException>(() => new Scheduler(optimizer, [new CyclicLR(0.01, 0.1, 10), new CyclicLR(0.01, 0.1, 20)]))!;
        Assert.That(e.Message, Does.Contain("share the optimizer's one momentum"));
    }

    [Test]
    public void Two_schedulers_on_one_optimizer_chain_like_ChainedScheduler()
    {
        using var o = new TwoGroups();
        var first = new ConstantLR(0.1, 20).Attach(o.Optimizer);
        var second = new ExponentialLR(0.97).Attach(o.Optimizer);
        var chained = new ChainedScheduler(new ConstantLR(0.1, 20), new ExponentialLR(0.97)).Trajectory(60, 0.1);
        Assert.That(o.Lrs[0], Is.EqualTo(chained[0]));
        for (int t = 1; t < 60; t++)
        {
            first.Step();
            second.Step();
            Assert.That(o.Lrs[0], Is.EqualTo(chained[t]), $"step {t}");
        }
    }

    [Test]
    public void HoldAfter_keeps_the_last_value_where_pytorch_cosine_would_rise_again()
    {
        var cosine = new CosineAnnealingLR(50, etaMin: 1e-3);
        var held = cosine.HoldAfter(50);
        Assert.That(cosine.LearningRate(75, 0.1), Is.GreaterThan(0.04), "PyTorch's cosine rises after T_max");
        var stepped = held.Trajectory(120, 0.1);
        for (int t = 50; t < 120; t++)
        {
            Assert.That(held.LearningRate(t, 0.1), Is.EqualTo(cosine.LearningRate(50, 0.1)));
            Assert.That(stepped[t], Is.EqualTo(stepped[50]));
        }
        Assert.That(stepped[50], Is.EqualTo(1e-3).Within(1e-15));
    }

    [Test]
    public void Pure_form_gives_the_same_value_in_any_order_and_as_a_function()
    {
        var schedule = new SequentialLR([new LinearLR(0.1, 1.0, 20), new CosineAnnealingWarmRestarts(15, 2, 1e-4)], [20]);
        var forward = Enumerable.Range(0, 300).Select(t => schedule.LearningRate(t, 0.3)).ToArray();
        var f = schedule.AsFunction(0.3);
        foreach (var t in Enumerable.Range(0, 300).Reverse()) Assert.That(f(t), Is.EqualTo(forward[t]));
        var stepped = schedule.Trajectory(300, 0.3);
        for (int t = 0; t < 300; t++) Assert.That(ScheduleFixture.RelativeError(stepped[t], forward[t]), Is.LessThanOrEqualTo(1e-12), $"step {t}");
    }

    [Test]
    public void Warm_restarts_position_follows_periods_T0_times_Tmult()
    {
        var sgdr = new CosineAnnealingWarmRestarts(10, 2);
        Assert.That(sgdr.Position(0), Is.EqualTo((0L, 10L)));
        Assert.That(sgdr.Position(9), Is.EqualTo((9L, 10L)));
        Assert.That(sgdr.Position(10), Is.EqualTo((0L, 20L)));
        Assert.That(sgdr.Position(30), Is.EqualTo((0L, 40L)));
        Assert.That(sgdr.Position(69), Is.EqualTo((39L, 40L)));
        Assert.That(sgdr.LearningRate(30, 0.1), Is.EqualTo(0.1), "a restart is back at the base lr");
    }

    [Test]
    public void Schedules_describe_themselves_for_logs_and_state_checks()
    {
        Assert.That(Schedule.WarmupCosine(100, 1000).ToString(),
            Is.EqualTo("SequentialLR([LinearLR(startFactor: 0, endFactor: 1, totalIters: 100), CosineAnnealingLR(tMax: 900, etaMin: 0)], milestones: [100])"));
        Assert.That(new MultiStepLR([30, 60, 90]).ToString(), Is.EqualTo("MultiStepLR(milestones: [30, 60, 90], gamma: 0.1)"));
    }

    [Test]
    public void A_group_added_after_attaching_is_reported()
    {
        using var o = new TwoGroups();
        var scheduler = new StepLR(10).Attach(o.Optimizer);
        using var extra = new Parameter(zeros(1));
        o.Optimizer.add_param_group(new SGD.ParamGroup([extra], lr: 0.01, momentum: 0.9));
        Assert.That(() => scheduler.Step(), Throws.InvalidOperationException.With.Message.Contains("3 parameter groups"));
    }
}
