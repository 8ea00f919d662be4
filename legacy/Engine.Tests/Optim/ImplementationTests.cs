using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>The fused CPU kernel and the multi-tensor (_foreach_*) path give the readable path's
/// trajectory, for every option that changes the update.</summary>
public class ImplementationTests
{
    const int Steps = 100;

    static IEnumerable<TestCaseData> Cases()
    {
        var optimizers = new (string, Func<Tensor[], Optimizer>)[]
        {
            ("adam", p => new Adam(p, lr: 1e-2)),
            ("adam_amsgrad_wd_maximize", p => new Adam(p, lr: 1e-2, weightDecay: 1e-2, amsgrad: true, maximize: true)),
            ("adamw", p => new AdamW(p, lr: 1e-2, weightDecay: 0.1)),
            ("adamw_amsgrad", p => new AdamW(p, lr: 1e-2, weightDecay: 0.1, amsgrad: true)),
            ("sgd", p => new Sgd(p, lr: 0.1)),
            ("sgd_momentum_dampening_wd", p => new Sgd(p, lr: 0.05, momentum: 0.9, dampening: 0.2, weightDecay: 1e-3)),
            ("sgd_nesterov_maximize", p => new Sgd(p, lr: 0.05, momentum: 0.9, nesterov: true, maximize: true)),
            ("rmsprop", p => new RmsProp(p, lr: 1e-2)),
            ("rmsprop_centered", p => new RmsProp(p, lr: 1e-2, centered: true)),
            ("rmsprop_momentum_wd", p => new RmsProp(p, lr: 1e-2, momentum: 0.9, weightDecay: 1e-2)),
            ("rmsprop_centered_momentum_wd_maximize", p => new RmsProp(p, lr: 1e-2, alpha: 0.9, eps: 1e-6, momentum: 0.5, centered: true, weightDecay: 1e-3, maximize: true)),
            ("adagrad", p => new Adagrad(p, lr: 0.1)),
            ("adagrad_decay_wd_init_maximize", p => new Adagrad(p, lr: 0.1, lrDecay: 1e-2, weightDecay: 1e-3, initialAccumulatorValue: 0.1, maximize: true)),
        };
        // Optimizers with a fused kernel but no multi-tensor path (their Foreach is the readable path).
        var fusedOnly = new (string, Func<Tensor[], Optimizer>)[]
        {
            ("adadelta", p => new Adadelta(p, lr: 1.0)),
            ("adadelta_rho_wd_maximize", p => new Adadelta(p, lr: 0.5, rho: 0.8, eps: 1e-5, weightDecay: 1e-3, maximize: true)),
            ("adamax", p => new Adamax(p, lr: 1e-2)),
            ("adamax_wd_maximize", p => new Adamax(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 1e-3, maximize: true)),
            ("nadam", p => new NAdam(p, lr: 1e-2)),
            ("nadam_wd_momentum_decay_maximize", p => new NAdam(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, weightDecay: 1e-3, momentumDecay: 1e-2, maximize: true)),
            ("radam", p => new RAdam(p, lr: 1e-2)),
            ("radam_wd_maximize", p => new RAdam(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 1e-3, maximize: true)),
            ("lion", p => new Lion(p, lr: 1e-3)),
            ("lion_wd_maximize", p => new Lion(p, lr: 2e-3, beta1: 0.8, beta2: 0.95, weightDecay: 0.1, maximize: true)),
        };
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            foreach (var impl in new[] { Implementation.Fused, Implementation.Foreach })
                foreach (var (name, make) in optimizers)
                    yield return new TestCaseData(dtype, impl, make).SetName($"{name}_{impl}_equals_readable_{dtype.TorchName()}");
            foreach (var (name, make) in fusedOnly)
                yield return new TestCaseData(dtype, Implementation.Fused, make).SetName($"{name}_Fused_equals_readable_{dtype.TorchName()}");
        }
    }

    static IEnumerable<TestCaseData> SkippingCases()
    {
        var optimizers = new (string, Func<Tensor[], Optimizer>)[]
        {
            ("rmsprop_centered_momentum", p => new RmsProp(p, lr: 1e-2, momentum: 0.5, centered: true)),
            ("adagrad_decay", p => new Adagrad(p, lr: 0.1, lrDecay: 1e-2)),
            ("adadelta", p => new Adadelta(p, lr: 1.0)),
            ("adamax", p => new Adamax(p, lr: 1e-2)),
            ("nadam", p => new NAdam(p, lr: 1e-2)),
            ("radam", p => new RAdam(p, lr: 1e-2)),
        };
        foreach (var impl in new[] { Implementation.Fused, Implementation.Foreach })
            foreach (var (name, make) in optimizers)
                yield return new TestCaseData(impl, make).SetName($"{name}_{impl}_with_a_parameter_skipping_steps_equals_readable");
    }

    /// <summary>A parameter with no gradient on some steps falls behind the others in step count;
    /// the fast paths must then still give the readable path's result (the multi-tensor ones
    /// share step-dependent scalars only across parameters at the same step).</summary>
    [TestCaseSource(nameof(SkippingCases))]
    public void Fast_path_with_a_parameter_skipping_steps_matches_readable_path(Implementation impl, Func<Tensor[], Optimizer> make)
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var fast = make(h.ParamsA);
        using var readable = make(h.ParamsB);
        fast.Implementation = impl;
        readable.Implementation = Implementation.Readable;
        for (int step = 0; step < 30; step++)
        {
            using var scope = DisposeScope.Begin();
            h.LossAndBackward(h.A);
            h.LossAndBackward(h.B);
            if (step % 3 == 1)
            {
                h.ParamsA[0].ZeroGrad();
                h.ParamsB[0].ZeroGrad();
            }
            fast.Step();
            readable.Step();
        }
        Assert.That(h.MaxRelativeDifference(), Is.LessThan(1e-12));
        Assert.That(fast.States[h.ParamsA[0]].Step, Is.EqualTo(20));
        Assert.That(fast.States[h.ParamsA[1]].Step, Is.EqualTo(30));
    }

    [TestCaseSource(nameof(Cases))]
    public void Fast_path_matches_readable_path(ScalarType dtype, Implementation impl, Func<Tensor[], Optimizer> make)
    {
        using var h = new OptimizerHarness(dtype);
        using var fast = make(h.ParamsA);
        using var readable = make(h.ParamsB);
        fast.Implementation = impl;
        readable.Implementation = Implementation.Readable;
        // float64: the paths differ only in FMA contraction; float32: a few ulps per step.
        double tolerance = dtype == ScalarType.Float64 ? 1e-12 : 1e-5;
        double worst = 0;
        for (int step = 0; step < Steps; step++)
        {
            using var scope = DisposeScope.Begin();
            h.LossAndBackward(h.A);
            h.LossAndBackward(h.B);
            fast.Step();
            readable.Step();
            worst = Math.Max(worst, h.MaxRelativeDifference());
        }
        TestContext.Out.WriteLine($"max relative difference over {Steps} steps: {worst:E2}");
        Assert.That(worst, Is.LessThan(tolerance));
        // The state the fast path keeps is the readable path's state.
        Assert.That(fast.States.Count, Is.EqualTo(readable.States.Count));
        foreach (var (pa, pb) in h.ParamsA.Zip(h.ParamsB))
        {
            if (!readable.States.TryGetValue(pb, out var sb)) continue;
            var sa = fast.States[pa];
            Assert.That(sa.Buffers.Keys, Is.EquivalentTo(sb.Buffers.Keys));
            foreach (var (name, ta) in sa.Buffers)
                using (DisposeScope.Begin())
                    Assert.That(ta.AllClose(sb.Buffers[name], rtol: tolerance * 10, atol: 1e-9), Is.True, name);
        }
    }
}
