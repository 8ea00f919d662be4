using Engine.Interop;
using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>L-BFGS against libtorch's torch::optim::LBFGS from the same weights, each step a
/// closure over the harness's batch. (Python PyTorch 1.13's trajectories are checked in
/// <see cref="PythonTrajectoryTests"/>.)</summary>
public class LbfgsTests
{
    const int Steps = 60;

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            // lr, max_iter, max_eval (<= 0: default), tolerance_grad, tolerance_change, history_size, strong_wolfe
            yield return Case(dtype, "lbfgs", [1, 5, 0, 1e-7, 1e-9, 10, 0]);
            yield return Case(dtype, "lbfgs_short_history", [0.5, 8, 0, 1e-7, 1e-9, 3, 0]);
            yield return Case(dtype, "lbfgs_strong_wolfe", [1, 5, 0, 1e-7, 1e-9, 10, 1]);
            yield return Case(dtype, "lbfgs_strong_wolfe_max_eval", [1, 20, 12, 1e-7, 1e-9, 4, 1]);
        }
    }

    static TestCaseData Case(ScalarType dtype, string name, double[] hyper) =>
        new TestCaseData(dtype, hyper).SetName($"{name}_matches_libtorch_over_{Steps}_steps_{dtype.TorchName()}");

    static Lbfgs Make(Tensor[] p, double[] h) =>
        new(p, lr: h[0], maxIter: (int)h[1], maxEval: h[2] > 0 ? (int)h[2] : null, toleranceGrad: h[3], toleranceChange: h[4],
            historySize: (int)h[5], lineSearch: h[6] != 0 ? LbfgsLineSearch.StrongWolfe : LbfgsLineSearch.None);

    [TestCaseSource(nameof(Cases))]
    public void Lbfgs_matches_libtorch(ScalarType dtype, double[] hyper)
    {
        using var h = new OptimizerHarness(dtype);
        using var engine = Make(h.ParamsA, hyper);
        using var reference = new ReferenceOptimizer(ReferenceOptimizer.Kind.Lbfgs, h.ParamsB, hyper);
        // Bit-identical here in both dtypes. The margin is for other libtorch builds: the C++
        // line search computes in double where lbfgs.py (and the engine) round to float32.
        double tolerance = dtype == ScalarType.Float64 ? 1e-10 : 1e-4;
        double worst = 0, lossA = 0;
        for (int step = 0; step < Steps; step++)
        {
            using var scope = DisposeScope.Begin();
            lossA = engine.Step(() => h.LossAndBackward(h.A));
            reference.Step(() => h.LossAndBackward(h.B));
            worst = Math.Max(worst, h.MaxRelativeDifference());
        }
        TestContext.Out.WriteLine($"max relative difference over {Steps} steps: {worst:e2}; final loss {lossA:e3}");
        Assert.That(worst, Is.LessThan(tolerance), $"max relative difference over {Steps} steps");
        Assert.That(lossA, Is.LessThan(0.5), "the run must make progress");
    }

    [Test]
    public void Lbfgs_step_without_closure_is_refused()
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var lbfgs = new Lbfgs(h.ParamsA);
        Assert.That(() => lbfgs.Step(), Throws.InvalidOperationException);
    }

    [Test]
    public void Lbfgs_takes_one_group_only()
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var lbfgs = new Lbfgs(h.ParamsA[..2]);
        Assert.That(() => lbfgs.AddParamGroup(new ParamGroupSpec(h.ParamsA[2..])), Throws.InstanceOf<NotSupportedException>());
    }

    [TestCase(LbfgsLineSearch.None)]
    [TestCase(LbfgsLineSearch.StrongWolfe)]
    public void Lbfgs_resumes_exactly_from_its_state_dict(LbfgsLineSearch lineSearch) =>
        // Few steps, so that the run has not converged (and stopped moving) by the resume.
        Assert.That(OptimizerChecks.ResumeDifference(p => new Lbfgs(p, maxIter: 3, historySize: 4, lineSearch: lineSearch), before: 8, after: 8),
            Is.EqualTo(0));

    [Test]
    public void Lbfgs_state_dict_uses_pytorch_names()
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var lbfgs = new Lbfgs(h.ParamsA, maxIter: 4, historySize: 3);
        for (int i = 0; i < 2; i++)
        {
            using var scope = DisposeScope.Begin();
            lbfgs.Step(() => h.LossAndBackward(h.A));
        }
        using var state = lbfgs.StateDict();
        Assert.That(state.State.Keys, Is.EqualTo(new[] { 0 }));
        var entry = state.State[0];
        Assert.That(entry.Buffers.Keys, Is.EquivalentTo(new[] { "func_evals", "t", "H_diag", "prev_loss", "ro", "old_dirs", "old_stps", "d", "prev_flat_grad" }));
        Assert.That(entry.Step, Is.EqualTo(8));
        Assert.That(entry.Buffers["old_dirs"].Shape, Is.EqualTo(new long[] { 3, h.ParamsA.Sum(p => p.NumEl) }));
    }

    [Test]
    public void Lbfgs_rejects_bad_hyperparameters()
    {
        using var p = Torch.Zeros([2], ScalarType.Float64, Device.CPU).RequiresGrad_();
        Assert.That(() => new Lbfgs([p], lr: -1), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lbfgs([p], maxIter: 0), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lbfgs([p], maxEval: 0), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lbfgs([p], historySize: 0), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lbfgs([p], toleranceGrad: -1), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lbfgs([p], toleranceChange: double.NaN), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lbfgs([p], lineSearch: (LbfgsLineSearch)7), Throws.InstanceOf<ArgumentException>());
    }
}
