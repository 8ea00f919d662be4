using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>L-BFGS against TorchSharp's torch.optim.LBFGS (libtorch's C++ torch::optim::LBFGS,
/// which has no line search) from the same weights, each step a closure over the harness's
/// batch. Strong Wolfe and Python PyTorch 1.13's trajectories are checked in
/// <see cref="TrajectoryFixtureTests"/>.</summary>
public class LbfgsTests
{
    const int Steps = 60;

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
        {
            // lr, max_iter, max_eval (<= 0: default), tolerance_grad, tolerance_change, history_size
            yield return Case(dtype, "lbfgs", [1, 5, 0, 1e-7, 1e-9, 10]);
            yield return Case(dtype, "lbfgs_short_history", [0.5, 8, 0, 1e-7, 1e-9, 3]);
            yield return Case(dtype, "lbfgs_max_eval", [1, 20, 12, 1e-7, 1e-9, 4]);
        }
    }

    static TestCaseData Case(ScalarType dtype, string name, double[] hyper) =>
        new TestCaseData(dtype, hyper).SetName($"{name}_matches_torchsharp_over_{Steps}_steps_{dtype}");

    static Lbfgs Make(Parameter[] p, double[] h, LbfgsLineSearch lineSearch = LbfgsLineSearch.None) =>
        new(p, lr: h[0], maxIter: (int)h[1], maxEval: h[2] > 0 ? (int)h[2] : null, toleranceGrad: h[3], toleranceChange: h[4],
            historySize: (int)h[5], lineSearch: lineSearch);

    [TestCaseSource(nameof(Cases))]
    public void Matches_torchsharp(ScalarType dtype, double[] h)
    {
        var (_, worst, _, loss) = PaperChecks.Side(p => Make(p, h),
            p => torch.optim.LBFGS(p, lr: h[0], max_iter: (long)h[1], max_eval: h[2] > 0 ? (long)h[2] : (long)h[1] * 5 / 4,
                tolerange_grad: h[3], tolerance_change: h[4], history_size: (long)h[5]),
            dtype, Steps);
        // The same algorithm on the same libtorch: measured bit-identical in both dtypes. The C++
        // implementation keeps a few scalars as 0-d tensors where Engine reads them into doubles
        // (rounded to float32 for float32 parameters, as lbfgs.py does), so other CPUs may see
        // rounding differences, which 60 quasi-Newton steps amplify: float64 1e-8, float32 1e-3.
        double tolerance = dtype == ScalarType.Float64 ? 1e-8 : 1e-3;
        Assert.That(worst, Is.LessThan(tolerance), $"max relative difference over {Steps} steps");
        Assert.That(loss, Is.LessThan(0.5), "the run must make progress");
    }

    [Test]
    public void Lbfgs_step_without_closure_is_refused()
    {
        using var h = new PaperHarness(ScalarType.Float64);
        using var lbfgs = new Lbfgs(h.ParamsA);
        Assert.That(() => lbfgs.step(), Throws.InvalidOperationException);
    }

    [Test]
    public void Lbfgs_takes_one_group_only()
    {
        using var h = new PaperHarness(ScalarType.Float64);
        using var lbfgs = new Lbfgs(h.ParamsA[..2]);
        Assert.That(() => lbfgs.add_param_group(new TorchSharp.Modules.ParamGroup { Parameters = h.ParamsA[2..] }), Throws.InstanceOf<NotSupportedException>());
        lbfgs.AddParamGroup(new ParamGroupSpec(h.ParamsA[2..]));
        Assert.That(() => lbfgs.step(h.Closure(h.A, lbfgs)), Throws.InstanceOf<NotSupportedException>());
    }

    static IEnumerable<TestCaseData> ResumeCases()
    {
        foreach (var lineSearch in new[] { LbfgsLineSearch.None, LbfgsLineSearch.StrongWolfe })
            foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
                foreach (var via in new[] { Resume.StateDict, Resume.File })
                    yield return new TestCaseData(lineSearch, dtype, via).SetName($"Lbfgs_{lineSearch}_{dtype}_resumes_bit_identically_through_{via}");
    }

    // Few steps, so that the run has not converged (and stopped moving) by the resume.
    [TestCaseSource(nameof(ResumeCases))]
    public void Resumes(LbfgsLineSearch lineSearch, ScalarType dtype, Resume via) =>
        Assert.That(PaperChecks.ResumeDifference(p => new Lbfgs(p, maxIter: 3, historySize: 4, lineSearch: lineSearch), via, dtype, before: 8, after: 8),
            Is.EqualTo(0));

    [Test]
    public void Lbfgs_state_uses_pytorch_names()
    {
        using var h = new PaperHarness(ScalarType.Float64);
        using var lbfgs = new Lbfgs(h.ParamsA, maxIter: 4, historySize: 3);
        for (int i = 0; i < 2; i++) using (NewDisposeScope()) lbfgs.step(h.Closure(h.A, lbfgs));
        var state = lbfgs.StateOf(h.ParamsA[0]);
        Assert.That(state.Buffers.Keys, Is.EquivalentTo(new[] { "func_evals", "t", "H_diag", "prev_loss", "ro", "old_dirs", "old_stps", "d", "prev_flat_grad" }));
        Assert.That(state.Step, Is.EqualTo(8), "n_iter");
        Assert.That(state["old_dirs"].shape, Is.EqualTo(new long[] { 3, h.ParamsA.Sum(p => p.numel()) }));
        Assert.That(lbfgs.StateOf(h.ParamsA[1]).Buffers, Is.Empty, "PyTorch keeps L-BFGS's state on the first parameter");
    }

    [Test]
    public void Lbfgs_rejects_bad_hyperparameters()
    {
        var p = new[] { new Parameter(zeros(2, ScalarType.Float64)) };
        PaperChecks.Rejects(() => new Lbfgs(p, lr: -1), "lr", "-1");
        PaperChecks.Rejects(() => new Lbfgs(p, maxIter: 0), "max_iter", "0");
        PaperChecks.Rejects(() => new Lbfgs(p, maxEval: 0), "max_eval", "0");
        PaperChecks.Rejects(() => new Lbfgs(p, historySize: 0), "history_size", "0");
        PaperChecks.Rejects(() => new Lbfgs(p, toleranceGrad: -1), "tolerance_grad", "-1");
        PaperChecks.Rejects(() => new Lbfgs(p, toleranceChange: double.NaN), "tolerance_change", "NaN");
        PaperChecks.Rejects(() => new Lbfgs(p, lineSearch: (LbfgsLineSearch)7), "line_search_fn", "7");
    }
}
