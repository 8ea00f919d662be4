using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>
/// RAdam against a float64 formula (Liu et al. 2020, Algorithm 2, in PyTorch's form, which 1.13
/// and 2.x share), against Python PyTorch 1.13's trajectories (<see cref="TrajectoryFixtureTests"/>),
/// and against TorchSharp 0.107's torch.optim.RAdam at lr = 1 only: TorchSharp's rectified step
/// is <c>t6 * lr * adaptive_lr * rect</c> with <c>t6 = m̂ * lr</c>, so it scales by lr² once ρₜ > 5
/// (a bug, measured in the first test); at lr = 1 the two agree.
/// </summary>
public class RAdamTests
{
    /// <summary>A separable quadratic ½c‖θ − θ*‖² at a scale (θ* ~ 1000, c = 1e-3) where unit
    /// steps are small: lr = 1 is a sensible learning rate for it.</summary>
    static (Parameter[] Ps, Func<Tensor> Loss) Quadratic(ScalarType dtype)
    {
        manual_seed(3);
        var ps = new[] { new Parameter(randn(new long[] { 8, 5 }, dtype)), new Parameter(randn(new long[] { 5 }, dtype)) };
        var targets = ps.Select(p => (randn(p.shape, dtype) * 1000).DetachFromDisposeScope()).ToArray();
        return (ps, () =>
        {
            Tensor loss = zeros(Array.Empty<long>(), dtype);
            for (int i = 0; i < ps.Length; i++) loss = loss + (ps[i] - targets[i]).square().sum() * 5e-4;
            return loss;
        });
    }

    static double Run(Func<Parameter[], torch.optim.Optimizer> ours, Func<Parameter[], torch.optim.Optimizer> theirs, ScalarType dtype)
    {
        var (a, la) = Quadratic(dtype);
        var (b, lb) = Quadratic(dtype);
        using var oa = ours(a);
        using var ob = theirs(b);
        double worst = 0;
        for (int i = 0; i < 200; i++)
        {
            using var scope = NewDisposeScope();
            oa.step(() => { oa.zero_grad(); var l = la(); l.backward(); return l; });
            ob.step(() => { ob.zero_grad(); var l = lb(); l.backward(); return l; });
            for (int k = 0; k < a.Length; k++)
                worst = Math.Max(worst, ((a[k] - b[k]).abs() / (b[k].abs() + 1e-3)).max().ToDouble());
        }
        return worst;
    }

    [Test]
    public void Torchsharp_radam_scales_its_rectified_step_by_lr_squared()
    {
        // The documented TorchSharp 0.107 bug that keeps the parity tests at lr = 1: at lr = 0.5
        // TorchSharp's run leaves Engine's (and PyTorch's) as soon as ρₜ > 5 (step 6).
        double worst = Run(p => new RAdam(p, lr: 0.5), p => torch.optim.RAdam(p, lr: 0.5), ScalarType.Float64);
        TestContext.Out.WriteLine($"lr 0.5: max relative difference {worst:e2}");
        Assert.That(worst, Is.GreaterThan(1e-4));
    }

    static IEnumerable<TestCaseData> TorchSharpCases()
    {
        foreach (var impl in new[] { Implementation.Readable, Implementation.Fused })
            foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
            {
                yield return new TestCaseData(impl, dtype, new[] { 0.9, 0.999, 1e-8, 0 })
                    .SetName($"RAdam_{impl}_matches_torchsharp_at_lr_1_over_200_steps_{dtype}");
                yield return new TestCaseData(impl, dtype, new[] { 0.8, 0.99, 1e-6, 1e-3 })
                    .SetName($"RAdam_{impl}_with_weight_decay_matches_torchsharp_at_lr_1_over_200_steps_{dtype}");
            }
    }

    [TestCaseSource(nameof(TorchSharpCases))]
    public void Matches_torchsharp_at_lr_1(Implementation impl, ScalarType dtype, double[] h)
    {
        double worst = Run(p => new RAdam(p, lr: 1, beta1: h[0], beta2: h[1], eps: h[2], weightDecay: h[3]) { Implementation = impl },
            p => torch.optim.RAdam(p, lr: 1, beta1: h[0], beta2: h[1], eps: h[2], weight_decay: h[3]), dtype);
        TestContext.Out.WriteLine($"max relative difference over 200 steps: {worst:e2}");
        // Readable: TorchSharp's ops in its order on the same libtorch: bit-identical on any CPU.
        // Fused: the same arithmetic with libtorch's roundings up to an FMA contraction per op,
        // ~1 ulp a step on weights of ~1000 moving by ≤ 1 a step; measured ≤ 2e-16 (float64) and
        // ≤ 7e-7 (float32) here: the bounds leave an order or more.
        double tolerance = impl == Implementation.Readable ? 0 : dtype == ScalarType.Float64 ? 1e-12 : 1e-5;
        Assert.That(worst, Is.LessThanOrEqualTo(tolerance));
    }

    /// <summary>RAdam in PyTorch's form (and 2.x's decoupled_weight_decay, maximize), per element in float64.</summary>
    internal static Action<RefTensor[], double[][], int> Reference(double lr, double beta1, double beta2, double eps, double weightDecay,
        bool decoupled, bool maximize) =>
        (parameters, grads, t) =>
        {
            double bc1 = 1 - Math.Pow(beta1, t), bc2 = 1 - Math.Pow(beta2, t);
            double rhoInf = 2 / (1 - beta2) - 1, rhoT = rhoInf - 2 * t * Math.Pow(beta2, t) / bc2;
            double rect = rhoT > 5 ? Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) : 0;
            for (int k = 0; k < parameters.Length; k++)
            {
                var p = parameters[k];
                int n = p.W.Length;
                var m = p.Buffer("m", n);
                var v = p.Buffer("v", n);
                for (int i = 0; i < n; i++)
                {
                    double g = maximize ? -grads[k][i] : grads[k][i];
                    if (decoupled) p.W[i] *= 1 - lr * weightDecay;
                    else g += weightDecay * p.W[i];
                    m[i] = beta1 * m[i] + (1 - beta1) * g;
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                    double mHat = m[i] / bc1;
                    p.W[i] -= rhoT > 5 ? lr * mHat * rect * Math.Sqrt(bc2) / (Math.Sqrt(v[i]) + eps) : lr * mHat;
                }
            }
        };

    static IEnumerable<TestCaseData> FormulaCases()
    {
        foreach (var impl in new[] { Implementation.Readable, Implementation.Fused })
        {
            yield return new TestCaseData(impl, false, false).SetName($"RAdam_{impl}_matches_float64_formula_over_100_steps");
            yield return new TestCaseData(impl, true, false).SetName($"RAdam_{impl}_decoupled_weight_decay_matches_float64_formula_over_100_steps");
            yield return new TestCaseData(impl, false, true).SetName($"RAdam_{impl}_maximize_matches_float64_formula_over_100_steps");
        }
    }

    [TestCaseSource(nameof(FormulaCases))]
    public void Matches_formula(Implementation impl, bool decoupled, bool maximize) =>
        PaperChecks.AssertMatchesReference(
            p => new RAdam(p, lr: 1e-2, beta1: 0.85, beta2: 0.98, eps: 1e-7, weightDecay: 2e-2,
                decoupledWeightDecay: decoupled, maximize: maximize) { Implementation = impl },
            Reference(1e-2, 0.85, 0.98, 1e-7, 2e-2, decoupled, maximize));

    [TestCase(ScalarType.Float64)]
    [TestCase(ScalarType.Float32)]
    public void RAdam_fused_equals_readable_over_200_steps(ScalarType dtype)
    {
        var r = PaperChecks.PathDifference(p => new RAdam(p, lr: 1e-2, beta2: 0.99, weightDecay: 1e-2, maximize: true),
            Implementation.Fused, Implementation.Readable, dtype);
        PaperChecks.AssertRoundingOnly(r, dtype);
    }

    static IEnumerable<TestCaseData> ResumeCases()
    {
        foreach (var impl in new[] { Implementation.Readable, Implementation.Fused })
            foreach (var via in new[] { Resume.StateDict, Resume.File })
                yield return new TestCaseData(impl, via).SetName($"RAdam_{impl}_resumes_bit_identically_through_{via}");
    }

    [TestCaseSource(nameof(ResumeCases))]
    public void Resumes(Implementation impl, Resume via) =>
        Assert.That(PaperChecks.ResumeDifference(
            p => new RAdam(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, weightDecay: 1e-3) { Implementation = impl }, via), Is.EqualTo(0));

    [Test]
    public void RAdam_rejects_bad_hyperparameters()
    {
        var p = new[] { new Parameter(zeros(2, ScalarType.Float64)) };
        PaperChecks.Rejects(() => new RAdam(p, lr: -1), "lr", "-1");
        PaperChecks.Rejects(() => new RAdam(p, beta1: 1.5), "beta1", "1.5");
        PaperChecks.Rejects(() => new RAdam(p, beta2: double.NaN), "beta2", "NaN");
        PaperChecks.Rejects(() => new RAdam(p, eps: -1e-8), "eps", "-1E-08");
        PaperChecks.Rejects(() => new RAdam(p, weightDecay: -1e-3), "weight_decay", "-0.001");
    }
}
