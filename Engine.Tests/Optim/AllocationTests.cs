using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>An optimizer step on the fast paths makes (almost) no managed garbage. The fused
/// kernels read addresses through raw handles: no tensor wrapper per parameter, only the step's
/// dispose scope. The flat path runs a fixed handful of tensor ops per (dtype, device) bucket,
/// whatever the number of parameters: a few managed wrappers per step, not per parameter.</summary>
public class AllocationTests
{
    static readonly (string, Func<Parameter[], Optimizer>)[] Optimizers =
    [
        ("adam", p => new Adam(p)),
        ("adamw_amsgrad", p => new AdamW(p, amsgrad: true)),
        ("sgd_momentum", p => new Sgd(p, lr: 0.01, momentum: 0.9)),
        ("rmsprop_centered_momentum", p => new RmsProp(p, momentum: 0.9, centered: true)),
        ("adagrad", p => new Adagrad(p)),
        ("adadelta", p => new Adadelta(p)),
        ("adamax", p => new Adamax(p)),
    ];

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var impl in new[] { Implementation.Fused, Implementation.Flat })
            foreach (var (name, make) in Optimizers)
                yield return new TestCaseData(impl, make).SetName($"{name}_{impl}_step_allocates_almost_nothing");
        foreach (var (name, make) in new (string, Func<Parameter[], Optimizer>)[] { ("asgd", p => new Asgd(p)), ("rprop", p => new Rprop(p)) })
            yield return new TestCaseData(Implementation.Flat, make).SetName($"{name}_Flat_step_allocates_almost_nothing");
    }

    [TestCaseSource(nameof(Cases))]
    public void Step_allocates_almost_nothing(Implementation impl, Func<Parameter[], Optimizer> make)
    {
        // The MNIST MLP's shapes (two tensors large enough for the multi-core kernel), and the
        // same again twice over: the managed bytes a step must not grow with the tensor count.
        long[][] shapes = [[512, 784], [512], [256, 512], [256], [10, 256], [10]];
        double small = PerStep(shapes, impl, make);
        double large = PerStep(shapes.Concat(shapes).Concat(shapes).ToArray(), impl, make);
        TestContext.Out.WriteLine($"{impl}: {small:F0} managed bytes a step for 6 tensors, {large:F0} for 18");
        if (impl == Implementation.Fused)
        {
            // The step's dispose scope and the closure-less fork-join: well under 1 KB.
            Assert.That(small, Is.LessThan(1024));
            Assert.That(large, Is.LessThan(1024));
        }
        else
        {
            // One bucket: a handful of tensor wrappers and scalars for the whole group (measured
            // 300-1600 bytes a step), about the same for 6 tensors or 18.
            Assert.That(small, Is.LessThan(4096));
            Assert.That(large, Is.LessThan(small * 1.5 + 512));
        }
    }

    static double PerStep(long[][] shapes, Implementation impl, Func<Parameter[], Optimizer> make)
    {
        var ps = shapes.Select(s => new Parameter(randn(s))).ToArray();
        try
        {
            foreach (var p in ps) p.grad = randn_like(p).DetachFromDisposeScope();
            using var opt = make(ps);
            opt.Implementation = impl;
            for (int i = 0; i < 20; i++) opt.step();  // state made, flat buffers laid out, code jitted
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 50; i++) opt.step();
            return (GC.GetAllocatedBytesForCurrentThread() - before) / 50.0;
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
        }
    }
}
