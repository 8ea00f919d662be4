using Engine.Optim;
using TS = TorchSharp.Modules;

namespace Engine.Tests.Optim;

/// <summary>A run stopped after 30 steps and resumed — into a fresh model and a fresh optimizer
/// built with default hyperparameters — continues bit for bit as a run that was never
/// interrupted, on every update path, both through TorchSharp's in-memory
/// <c>state_dict()</c>/<c>load_state_dict()</c> and through <c>save_state_dict(path)</c>/
/// <c>load_state_dict(path)</c>. Also: TorchSharp's own schedulers drive Engine's optimizers as
/// they drive TorchSharp's.</summary>
public class StateResumeTests
{
    const int Half = 30;

    // name, the configured optimizer, the same optimizer with its defaults
    static readonly (string Name, Func<Parameter[], Optimizer> Make, Func<Parameter[], Optimizer> Default)[] Optimizers =
    [
        ("sgd_nesterov_wd", p => new Sgd(p, lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3), p => new Sgd(p)),
        ("sgd_momentum_dampening", p => new Sgd(p, lr: 0.05, momentum: 0.9, dampening: 0.2), p => new Sgd(p)),
        ("sgd_classic_momentum_nesterov", p => new SgdClassicMomentum(p, lr: 0.05, momentum: 0.9, weightDecay: 1e-3, nesterov: true), p => new SgdClassicMomentum(p)),
        ("rmsprop_centered_momentum_wd", p => new RmsProp(p, lr: 1e-2, alpha: 0.9, eps: 1e-6, momentum: 0.5, centered: true, weightDecay: 1e-3), p => new RmsProp(p)),
        ("adagrad_decay_wd_init", p => new Adagrad(p, lr: 0.1, lrDecay: 1e-2, weightDecay: 1e-3, initialAccumulatorValue: 0.1), p => new Adagrad(p)),
        ("adadelta_rho_wd", p => new Adadelta(p, lr: 0.5, rho: 0.8, weightDecay: 1e-3), p => new Adadelta(p)),
        ("adamax_wd", p => new Adamax(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, weightDecay: 1e-3), p => new Adamax(p)),
        ("asgd_averaging_wd", p => new Asgd(p, lr: 0.05, lambd: 1e-3, alpha: 0.6, t0: 10, weightDecay: 1e-3), p => new Asgd(p)),
        ("rprop_etas_steps", p => new Rprop(p, lr: 5e-3, etaMinus: 0.3, etaPlus: 1.5, minStep: 1e-4, maxStep: 0.05), p => new Rprop(p)),
        ("adam_amsgrad_wd", p => new Adam(p, lr: 1e-2, beta1: 0.8, weightDecay: 1e-2, amsgrad: true), p => new Adam(p)),
        ("adamw", p => new AdamW(p, lr: 1e-2, weightDecay: 0.1), p => new AdamW(p)),
    ];

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var impl in new[] { Implementation.Readable, Implementation.Fused, Implementation.Flat })
            foreach (var (name, _, _) in Optimizers)
                foreach (var file in new[] { false, true })
                    yield return new TestCaseData(name, impl, file).SetName($"{name}_{impl}_resumed_from_{(file ? "save_state_dict_file" : "state_dict")}_continues_exactly");
    }

    [TestCaseSource(nameof(Cases))]
    public void Resumed_run_equals_uninterrupted_run(string name, Implementation impl, bool file)
    {
        var (_, make, makeDefault) = Optimizers.Single(o => o.Name == name);
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var uninterrupted = make(h.ParamsA);
        uninterrupted.Implementation = impl;
        for (int step = 0; step < 2 * Half; step++)
        {
            using var scope = NewDisposeScope();
            h.LossAndBackward(h.A);
            uninterrupted.step();
        }

        var first = make(h.ParamsB);
        first.Implementation = impl;
        for (int step = 0; step < Half; step++)
        {
            using var scope = NewDisposeScope();
            h.LossAndBackward(h.B);
            first.step();
        }

        // A fresh model with the interrupted model's weights, and a fresh optimizer with defaults.
        using var model = OptimizerHarness.Make(ScalarType.Float64);
        var parameters = model.parameters().ToArray();
        using (no_grad())
            foreach (var (to, from) in parameters.Zip(h.ParamsB)) to.copy_(from);
        using var resumed = makeDefault(parameters);
        resumed.Implementation = impl;
        string path = Path.Combine(Path.GetTempPath(), $"engine-optim-{Guid.NewGuid():N}.bin");
        try
        {
            if (file)
            {
                first.save_state_dict(path);
                first.Dispose();
                resumed.load_state_dict(path);
            }
            else
            {
                // state_dict() refers to the live states: load before the first optimizer goes.
                resumed.load_state_dict(first.state_dict());
                first.Dispose();
            }
        }
        finally
        {
            File.Delete(path);
        }
        for (int g = 0; g < resumed.Groups.Count; g++)
            Assert.That(resumed.Groups[g].Options.Values(), Is.EqualTo(uninterrupted.Groups[g].Options.Values()), "hyperparameters");
        for (int step = 0; step < Half; step++)
        {
            using var scope = NewDisposeScope();
            h.LossAndBackward(model);
            resumed.step();
        }

        Assert.That(OptimizerHarness.MaxRelativeDifference(parameters, h.ParamsA, floor: 0), Is.EqualTo(0), "parameters");
        foreach (var (pa, pr) in h.ParamsA.Zip(parameters))
        {
            var sa = uninterrupted.StateOf(pa);
            var sr = resumed.StateOf(pr);
            Assert.That(sr.Step, Is.EqualTo(sa.Step));
            Assert.That(sr.Buffers.Keys, Is.EquivalentTo(sa.Buffers.Keys));
            foreach (var (buffer, ta) in sa.Buffers)
                Assert.That(OptimizerHarness.Identical(ta, sr.Buffers[buffer]), Is.True, buffer);
        }
    }

    [Test]
    public void OptimizerChecks_ResumeDifference_is_zero_for_sgd_classic_momentum() =>
        Assert.That(OptimizerChecks.ResumeDifference(p => new SgdClassicMomentum(p, lr: 0.1, momentum: 0.9, weightDecay: 1e-3)), Is.EqualTo(0));

    static IEnumerable<TestCaseData> SchedulerCases()
    {
        foreach (var scheduler in new[] { "StepLR", "OneCycleLR" })
        {
            yield return new TestCaseData("sgd", scheduler).SetName($"TorchSharp_{scheduler}_drives_Engine_Sgd_as_TorchSharp_SGD");
            yield return new TestCaseData("adam", scheduler).SetName($"TorchSharp_{scheduler}_drives_Engine_Adam_as_TorchSharp_Adam");
        }
    }

    /// <summary>TorchSharp's schedulers only touch <c>ParamGroups</c> (LearningRate, and for
    /// one-cycle IMomentum/IBetas): Engine's optimizers are drop-in replacements. The readable
    /// path does TorchSharp's ops in TorchSharp's order, so the runs agree to the bit on this
    /// machine; 1e-12 leaves room for nothing but a different libtorch kernel.</summary>
    [TestCaseSource(nameof(SchedulerCases))]
    public void TorchSharp_scheduler_drives_engine_optimizer(string optimizer, string scheduler)
    {
        const int steps = 60;
        using var h = new OptimizerHarness(ScalarType.Float64);
        Optimizer engine = optimizer == "sgd" ? new Sgd(h.ParamsA, lr: 0.05, momentum: 0.9) : new Adam(h.ParamsA, lr: 1e-2);
        torch.optim.Optimizer reference = optimizer == "sgd" ? new TS.SGD(h.ParamsB, 0.05, momentum: 0.9) : new TS.Adam(h.ParamsB, 1e-2);
        using var e = engine;
        using var r = reference;
        engine.Implementation = Implementation.Readable;
        torch.optim.lr_scheduler.LRScheduler Schedule(torch.optim.Optimizer o) => scheduler == "StepLR"
            ? torch.optim.lr_scheduler.StepLR(o, step_size: 10, gamma: 0.5)
            : torch.optim.lr_scheduler.OneCycleLR(o, max_lr: optimizer == "sgd" ? 0.1 : 2e-2, total_steps: steps);
        var se = Schedule(engine);
        var sr = Schedule(reference);
        var lrs = new List<double>();
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            h.LossAndBackward(h.A);
            h.LossAndBackward(h.B);
            engine.step();
            reference.step();
            se.step();
            sr.step();
            Assert.That(engine.ParamGroups.First().LearningRate, Is.EqualTo(reference.ParamGroups.First().LearningRate), $"lr after step {step}");
            lrs.Add(engine.ParamGroups.First().LearningRate);
            if (scheduler == "OneCycleLR")
            {
                if (optimizer == "sgd")
                    Assert.That(engine.Groups[0].Momentum, Is.EqualTo(((torch.optim.IMomentum)reference.ParamGroups.First()).Momentum), $"momentum after step {step}");
                else
                    Assert.That(engine.Groups[0].Betas, Is.EqualTo(((torch.optim.IBetas)reference.ParamGroups.First()).Betas), $"betas after step {step}");
            }
        }
        Assert.That(lrs.Distinct().Count(), Is.GreaterThan(3), "the schedule must change the learning rate");
        double worst = h.MaxRelativeDifference();
        TestContext.Out.WriteLine($"max relative difference after {steps} steps: {worst:E2}");
        Assert.That(worst, Is.LessThan(1e-12));
    }
}
