using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>The fused CPU kernels and the flat-buffer path give the readable path's trajectory
/// and keep the readable path's state (same buffer names, same values), for every optimizer and
/// every option that changes the update; and when one parameter skips steps (its step count then
/// lags the others', which the flat path must notice).</summary>
public class ImplementationTests
{
    const int Steps = 100;

    static readonly (string, Func<Parameter[], Optimizer>)[] Optimizers =
    [
        ("sgd", p => new Sgd(p, lr: 0.1)),
        ("sgd_momentum_dampening_wd", p => new Sgd(p, lr: 0.05, momentum: 0.9, dampening: 0.2, weightDecay: 1e-3)),
        ("sgd_nesterov_maximize_wd", p => new Sgd(p, lr: 0.01, momentum: 0.9, nesterov: true, maximize: true, weightDecay: 1e-2)),
        ("rmsprop_centered", p => new RmsProp(p, lr: 1e-2, centered: true)),
        ("rmsprop_centered_momentum_wd", p => new RmsProp(p, lr: 1e-2, alpha: 0.9, eps: 1e-6, momentum: 0.5, centered: true, weightDecay: 1e-3)),
        ("rmsprop_momentum_maximize", p => new RmsProp(p, lr: 1e-3, momentum: 0.9, maximize: true)),
        ("adagrad_decay_wd_init_maximize", p => new Adagrad(p, lr: 0.1, lrDecay: 1e-2, weightDecay: 1e-3, initialAccumulatorValue: 0.1, maximize: true)),
        ("adadelta_rho_wd_maximize", p => new Adadelta(p, lr: 0.5, rho: 0.8, eps: 1e-5, weightDecay: 1e-3, maximize: true)),
        ("adamax_wd_maximize", p => new Adamax(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 1e-3, maximize: true)),
        ("asgd_averaging_wd_maximize", p => new Asgd(p, lr: 0.05, lambd: 1e-3, alpha: 0.6, t0: 20, weightDecay: 1e-3, maximize: true)),
        ("rprop_etas_steps_maximize", p => new Rprop(p, lr: 5e-3, etaMinus: 0.3, etaPlus: 1.5, minStep: 1e-4, maxStep: 0.05, maximize: true)),
        ("adam_amsgrad_wd_maximize", p => new Adam(p, lr: 1e-2, weightDecay: 1e-2, amsgrad: true, maximize: true)),
        ("adamw_amsgrad", p => new AdamW(p, lr: 1e-2, weightDecay: 0.1, amsgrad: true)),
    ];

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
            foreach (var impl in new[] { Implementation.Fused, Implementation.Flat })
                foreach (var (name, make) in Optimizers)
                    yield return new TestCaseData(dtype, impl, make, name.Contains("centered")).SetName($"{name}_{impl}_equals_readable_{dtype.ToString().ToLowerInvariant()}");
    }

    /// <summary>Tolerances as in <see cref="TorchSharpParityTests"/>: the same formula with
    /// other roundings (FMA contraction, vectorization boundaries), grown along the trajectory;
    /// centered RMSprop's fused trajectory is ill-conditioned (√(v − ḡ²) cancels) and is held to
    /// the first steps and the final loss.</summary>
    [TestCaseSource(nameof(Cases))]
    public void Fast_path_matches_readable_path(ScalarType dtype, Implementation impl, Func<Parameter[], Optimizer> make, bool illConditioned)
    {
        using var h = new OptimizerHarness(dtype);
        using var fast = make(h.ParamsA);
        using var readable = make(h.ParamsB);
        fast.Implementation = impl;
        readable.Implementation = Implementation.Readable;
        double worst = 0, first = 0;
        for (int step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            h.LossAndBackward(h.A);
            h.LossAndBackward(h.B);
            fast.step();
            readable.step();
            worst = Math.Max(worst, h.MaxRelativeDifference());
            if (step < 10) first = worst;
        }
        TestContext.Out.WriteLine($"max relative difference {first:E2} over 10 steps, {worst:E2} over {Steps}");
        var (firstBound, bound) = TorchSharpParityTests.Tolerances(dtype, impl);
        Assert.That(first, Is.LessThan(firstBound), "over the first 10 steps");
        if (illConditioned && impl == Implementation.Fused)
        {
            using var scope = NewDisposeScope();
            Assert.That(h.LossAndBackward(h.A).ToDouble(), Is.EqualTo(h.LossAndBackward(h.B).ToDouble()).Within(5).Percent, "final loss");
            return;
        }
        Assert.That(worst, Is.LessThan(bound), $"over {Steps} steps");
        // The state the fast path keeps is the readable path's state.
        foreach (var (pa, pb) in h.ParamsA.Zip(h.ParamsB))
        {
            var sa = fast.StateOf(pa);
            var sb = readable.StateOf(pb);
            Assert.That(sa.Step, Is.EqualTo(sb.Step));
            Assert.That(sa.Buffers.Keys, Is.EquivalentTo(sb.Buffers.Keys));
            foreach (var (name, ta) in sa.Buffers)
                Assert.That(OptimizerHarness.MaxRelativeDifference([ta], [sb.Buffers[name]]), Is.LessThan(bound * 10), name);
        }
    }

    static IEnumerable<TestCaseData> SkippingCases()
    {
        foreach (var impl in new[] { Implementation.Fused, Implementation.Flat })
            foreach (var (name, make) in Optimizers)
                yield return new TestCaseData(impl, make).SetName($"{name}_{impl}_with_a_parameter_skipping_steps_equals_readable");
    }

    /// <summary>A parameter with no gradient on some steps falls behind the others in step count;
    /// the fast paths must still give the readable path's result (the flat path shares
    /// step-dependent scalars only across parameters at the same step).</summary>
    [TestCaseSource(nameof(SkippingCases))]
    public void Fast_path_with_a_parameter_skipping_steps_matches_readable_path(Implementation impl, Func<Parameter[], Optimizer> make)
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var fast = make(h.ParamsA);
        using var readable = make(h.ParamsB);
        fast.Implementation = impl;
        readable.Implementation = Implementation.Readable;
        for (int step = 0; step < 30; step++)
        {
            using var scope = NewDisposeScope();
            h.LossAndBackward(h.A);
            h.LossAndBackward(h.B);
            if (step % 3 == 1)
            {
                h.ParamsA[0].grad = null;
                h.ParamsB[0].grad = null;
            }
            fast.step();
            readable.step();
        }
        // 30 float64 steps: rounding only (see TorchSharpParityTests).
        Assert.That(h.MaxRelativeDifference(), Is.LessThan(1e-9));
        Assert.That(fast.StateOf(h.ParamsA[0]).Step, Is.EqualTo(20));
        Assert.That(fast.StateOf(h.ParamsA[1]).Step, Is.EqualTo(30));
    }
}
