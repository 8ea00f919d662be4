using Engine.Interop;
using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>The engine's optimizers against libtorch's torch::optim, from the same weights and
/// the same gradients, over 200 steps.</summary>
public class LibTorchParityTests
{
    const int Steps = 200;

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            // name, engine factory, reference kind, reference hyperparameters
            yield return Case(dtype, "sgd", p => new Sgd(p, lr: 0.1), ReferenceOptimizer.Kind.Sgd, 0.1);
            yield return Case(dtype, "sgd_momentum_wd", p => new Sgd(p, lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3),
                ReferenceOptimizer.Kind.Sgd, 0.05, 0.9, 0.1, 1e-3, 0);
            yield return Case(dtype, "sgd_nesterov", p => new Sgd(p, lr: 0.05, momentum: 0.9, nesterov: true),
                ReferenceOptimizer.Kind.Sgd, 0.05, 0.9, 0, 0, 1);
            yield return Case(dtype, "adam", p => new Adam(p, lr: 1e-2), ReferenceOptimizer.Kind.Adam, 1e-2);
            yield return Case(dtype, "adam_wd_amsgrad", p => new Adam(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 1e-2, amsgrad: true),
                ReferenceOptimizer.Kind.Adam, 1e-2, 0.8, 0.99, 1e-6, 1e-2, 1);
            yield return Case(dtype, "adamw", p => new AdamW(p, lr: 1e-2, weightDecay: 0.1), ReferenceOptimizer.Kind.AdamW, 1e-2, 0.9, 0.999, 1e-8, 0.1, 0);
            yield return Case(dtype, "adamw_amsgrad", p => new AdamW(p, lr: 1e-2, weightDecay: 0.1, amsgrad: true),
                ReferenceOptimizer.Kind.AdamW, 1e-2, 0.9, 0.999, 1e-8, 0.1, 1);
            // RMSprop: lr, alpha, eps, weight_decay, momentum, centered
            yield return Case(dtype, "rmsprop", p => new RmsProp(p, lr: 1e-2), ReferenceOptimizer.Kind.RmsProp, 1e-2);
            yield return Case(dtype, "rmsprop_momentum", p => new RmsProp(p, lr: 1e-2, momentum: 0.9),
                ReferenceOptimizer.Kind.RmsProp, 1e-2, 0.99, 1e-8, 0, 0.9, 0);
            yield return Case(dtype, "rmsprop_centered_momentum_wd", p => new RmsProp(p, lr: 1e-2, alpha: 0.9, eps: 1e-6, weightDecay: 1e-3, momentum: 0.5, centered: true),
                ReferenceOptimizer.Kind.RmsProp, 1e-2, 0.9, 1e-6, 1e-3, 0.5, 1);
            // Adagrad: lr, lr_decay, weight_decay, initial_accumulator_value, eps
            yield return Case(dtype, "adagrad", p => new Adagrad(p, lr: 0.1), ReferenceOptimizer.Kind.Adagrad, 0.1);
            yield return Case(dtype, "adagrad_decay_wd_init", p => new Adagrad(p, lr: 0.1, lrDecay: 1e-3, weightDecay: 1e-3, initialAccumulatorValue: 0.1, eps: 1e-8),
                ReferenceOptimizer.Kind.Adagrad, 0.1, 1e-3, 1e-3, 0.1, 1e-8);
        }
    }

    static TestCaseData Case(ScalarType dtype, string name, Func<Tensor[], Optimizer> make, ReferenceOptimizer.Kind kind, params double[] hyper) =>
        new TestCaseData(dtype, make, (int)kind, hyper).SetName($"{name}_matches_libtorch_over_{Steps}_steps_{dtype.TorchName()}");

    [TestCaseSource(nameof(Cases))]
    public void Optimizer_matches_libtorch(ScalarType dtype, Func<Tensor[], Optimizer> make, int kind, double[] hyper)
    {
        using var h = new OptimizerHarness(dtype);
        using var engine = make(h.ParamsA);
        using var reference = new ReferenceOptimizer((ReferenceOptimizer.Kind)kind, h.ParamsB, hyper);
        // float64 agrees to rounding; float32 trajectories drift by a few ulps a step.
        double tolerance = dtype == ScalarType.Float64 ? 1e-12 : 2e-5;
        double worst = 0;
        for (int step = 0; step < Steps; step++)
        {
            using var scope = DisposeScope.Begin();
            h.LossAndBackward(h.A);
            h.LossAndBackward(h.B);
            engine.Step();
            reference.Step();
            worst = Math.Max(worst, h.MaxRelativeDifference());
        }
        TestContext.Out.WriteLine($"max relative difference over {Steps} steps: {worst:E2}");
        Assert.That(worst, Is.LessThan(tolerance), $"max relative difference over {Steps} steps");
        using (DisposeScope.Begin())
        {
            // The run must actually move the weights, or agreement proves nothing.
            var loss = h.LossAndBackward(h.A).Item<double>();
            Assert.That(loss, Is.LessThan(1.0));
        }
    }
}
