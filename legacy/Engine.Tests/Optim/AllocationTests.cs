using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>An optimizer step on the fast paths makes (almost) no managed garbage: no per-step
/// host allocations in the hot path, only the step's DisposeScope (72 bytes).</summary>
public class AllocationTests
{
    static IEnumerable<TestCaseData> Cases()
    {
        var optimizers = new (string, Func<Tensor[], Optimizer>)[]
        {
            ("adam", p => new Adam(p)),
            ("adamw", p => new AdamW(p)),
            ("sgd_momentum", p => new Sgd(p, lr: 0.01, momentum: 0.9)),
            ("rmsprop", p => new RmsProp(p)),
            ("adagrad", p => new Adagrad(p)),
        };
        foreach (var impl in new[] { Implementation.Fused, Implementation.Foreach })
            foreach (var (name, make) in optimizers)
                yield return new TestCaseData(impl, make).SetName($"{name}_{impl}_step_allocates_almost_nothing");
    }

    [TestCaseSource(nameof(Cases))]
    public void Step_allocates_almost_nothing(Implementation impl, Func<Tensor[], Optimizer> make)
    {
        // The MNIST MLP's shapes: two tensors are large enough for the multi-core kernel.
        long[][] shapes = [[512, 784], [512], [256, 512], [256], [10, 256], [10]];
        var ps = shapes.Select(s => Torch.Randn(s, device: Device.CPU).RequiresGrad_().DetachFromDisposeScope()).ToArray();
        try
        {
            foreach (var p in ps)
            {
                using var g = Torch.RandnLike(p);
                p.Grad = g;
            }
            using var opt = make(ps);
            opt.Implementation = impl;
            for (int i = 0; i < 20; i++) opt.Step();  // state created, code jitted
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 50; i++) opt.Step();
            double perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 50.0;
            TestContext.Progress.WriteLine($"{opt.GetType().Name} {impl}: {perStep:F0} managed bytes a step");
            Assert.That(perStep, Is.LessThan(512));
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
    }
}
