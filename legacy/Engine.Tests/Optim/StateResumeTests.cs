using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>A run stopped after 50 steps and resumed from <see cref="Optimizer.StateDict"/> in a
/// new optimizer, built with default hyperparameters and given the saved ones by
/// <see cref="Optimizer.LoadStateDict"/>, continues exactly (bit for bit) as a run of 100 steps
/// that was never interrupted.</summary>
public class StateResumeTests
{
    const int Half = 50;

    static IEnumerable<TestCaseData> Cases()
    {
        // name, the configured optimizer, the same optimizer with its defaults
        var cases = new (string, Func<Tensor[], Optimizer>, Func<Tensor[], Optimizer>)[]
        {
            ("rmsprop_centered_momentum_wd", p => new RmsProp(p, lr: 1e-2, alpha: 0.9, eps: 1e-6, momentum: 0.5, centered: true, weightDecay: 1e-3), p => new RmsProp(p)),
            ("adagrad_decay_wd_init", p => new Adagrad(p, lr: 0.1, lrDecay: 1e-2, weightDecay: 1e-3, initialAccumulatorValue: 0.1), p => new Adagrad(p)),
            ("adadelta_rho_wd", p => new Adadelta(p, lr: 0.5, rho: 0.8, weightDecay: 1e-3), p => new Adadelta(p)),
            ("adamax_wd", p => new Adamax(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, weightDecay: 1e-3), p => new Adamax(p)),
            ("nadam_wd_momentum_decay", p => new NAdam(p, lr: 1e-2, weightDecay: 1e-3, momentumDecay: 1e-2), p => new NAdam(p)),
            ("radam_wd", p => new RAdam(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, weightDecay: 1e-3), p => new RAdam(p)),
            ("sgd_nesterov_wd", p => new Sgd(p, lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3), p => new Sgd(p)),
            ("adam_amsgrad_wd", p => new Adam(p, lr: 1e-2, beta1: 0.8, weightDecay: 1e-2, amsgrad: true), p => new Adam(p)),
            ("adamw", p => new AdamW(p, lr: 1e-2, weightDecay: 0.1), p => new AdamW(p)),
        };
        foreach (var impl in new[] { Implementation.Readable, Implementation.Fused, Implementation.Foreach })
            foreach (var (name, make, makeDefault) in cases)
                yield return new TestCaseData(make, makeDefault, impl).SetName($"{name}_{impl}_resumed_from_state_dict_continues_exactly");
    }

    [TestCaseSource(nameof(Cases))]
    public void Resumed_run_equals_uninterrupted_run(Func<Tensor[], Optimizer> make, Func<Tensor[], Optimizer> makeDefault, Implementation impl)
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var uninterrupted = make(h.ParamsA);
        uninterrupted.Implementation = impl;
        for (int step = 0; step < 2 * Half; step++)
        {
            using var scope = DisposeScope.Begin();
            h.LossAndBackward(h.A);
            uninterrupted.Step();
        }

        using var saved = RunAndSave();
        OptimizerState RunAndSave()
        {
            using var first = make(h.ParamsB);
            first.Implementation = impl;
            for (int step = 0; step < Half; step++)
            {
                using var scope = DisposeScope.Begin();
                h.LossAndBackward(h.B);
                first.Step();
            }
            return first.StateDict();
        }
        using var resumed = makeDefault(h.ParamsB);
        resumed.Implementation = impl;
        resumed.LoadStateDict(saved);
        Assert.That(resumed.ParamGroups[0].Options.Values(), Is.EqualTo(uninterrupted.ParamGroups[0].Options.Values()));
        for (int step = 0; step < Half; step++)
        {
            using var scope = DisposeScope.Begin();
            h.LossAndBackward(h.B);
            resumed.Step();
        }

        Assert.That(h.MaxRelativeDifference(), Is.EqualTo(0), "parameters");
        foreach (var (pa, pb) in h.ParamsA.Zip(h.ParamsB))
        {
            var sa = uninterrupted.States[pa];
            var sb = resumed.States[pb];
            Assert.That(sb.Step, Is.EqualTo(sa.Step));
            Assert.That(sb.Buffers.Keys, Is.EquivalentTo(sa.Buffers.Keys));
            foreach (var (name, ta) in sa.Buffers)
                using (DisposeScope.Begin())
                    Assert.That(ta.Equal(sb.Buffers[name]), Is.True, name);
        }
    }
}
