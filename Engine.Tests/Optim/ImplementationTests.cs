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
            ("lion", p => new Lion(p, lr: 1e-3)),
            ("lion_wd_maximize", p => new Lion(p, lr: 2e-3, beta1: 0.8, beta2: 0.95, weightDecay: 0.1, maximize: true)),
        };
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
            foreach (var impl in new[] { Implementation.Fused, Implementation.Foreach })
                foreach (var (name, make) in optimizers)
                    yield return new TestCaseData(dtype, impl, make).SetName($"{name}_{impl}_equals_readable_{dtype.TorchName()}");
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
