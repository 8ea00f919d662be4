using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>
/// NAdam against TorchSharp 0.107's torch.optim.NAdam in the same process (PyTorch 2.x's formula:
/// the look-ahead divides by 1 − Πμ·μₜ₊₁, pytorch/pytorch#92699), and against a float64 formula
/// for what TorchSharp lacks (maximize, decoupled weight decay). Python PyTorch 1.13's
/// trajectories, whose look-ahead divides by 1 − Πμ·μₜ·μₜ₊₁, are checked with the 1.13 option in
/// <see cref="TrajectoryFixtureTests"/>.
/// </summary>
public class NAdamTests
{
    static IEnumerable<TestCaseData> TorchSharpCases()
    {
        foreach (var impl in new[] { Implementation.Readable, Implementation.Fused })
            foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
            {
                yield return new TestCaseData(impl, dtype, new[] { 2e-3, 0.9, 0.999, 1e-8, 0, 4e-3 })
                    .SetName($"NAdam_{impl}_matches_torchsharp_over_200_steps_{dtype}");
                yield return new TestCaseData(impl, dtype, new[] { 3e-3, 0.8, 0.99, 1e-6, 1e-2, 1e-2 })
                    .SetName($"NAdam_{impl}_with_weight_decay_and_momentum_decay_matches_torchsharp_over_200_steps_{dtype}");
            }
    }

    [TestCaseSource(nameof(TorchSharpCases))]
    public void Matches_torchsharp(Implementation impl, ScalarType dtype, double[] h)
    {
        var r = PaperChecks.Side(
            p => new NAdam(p, lr: h[0], beta1: h[1], beta2: h[2], eps: h[3], weightDecay: h[4], momentumDecay: h[5]) { Implementation = impl },
            p => torch.optim.NAdam(p, lr: h[0], beta1: h[1], beta2: h[2], eps: h[3], weight_decay: h[4], momentum_decay: h[5]),
            dtype);
        // The readable path runs TorchSharp's ops in TorchSharp's order on the same libtorch, so it is
        // bit-identical on any CPU (measured 0). The fused kernel rounds like libtorch's vectorized
        // kernels but not always to the bit: see AssertRoundingOnly.
        if (impl == Implementation.Readable) Assert.That(r.Worst, Is.EqualTo(0));
        else PaperChecks.AssertRoundingOnly(r, dtype);
        Assert.That(r.Loss, Is.LessThan(0.9), "the run must make progress");
    }

    /// <summary>PyTorch 2.x's NAdam (with 2.2's decoupled_weight_decay and maximize), per element in float64.</summary>
    internal static Action<RefTensor[], double[][], int> Reference(double lr, double beta1, double beta2, double eps, double weightDecay,
        double momentumDecay, bool decoupled, bool maximize, bool pytorch113 = false) =>
        (parameters, grads, t) =>
        {
            double mu = beta1 * (1 - 0.5 * Math.Pow(0.96, t * momentumDecay));
            double muNext = beta1 * (1 - 0.5 * Math.Pow(0.96, (t + 1) * momentumDecay));
            for (int k = 0; k < parameters.Length; k++)
            {
                var p = parameters[k];
                int n = p.W.Length;
                var m = p.Buffer("m", n);
                var v = p.Buffer("v", n);
                var product = p.Buffer("mu_product", 1);
                if (t == 1) product[0] = 1;
                product[0] *= mu;
                double next = pytorch113 ? product[0] * mu * muNext : product[0] * muNext;
                for (int i = 0; i < n; i++)
                {
                    double g = maximize ? -grads[k][i] : grads[k][i];
                    if (decoupled) p.W[i] *= 1 - lr * weightDecay;
                    else g += weightDecay * p.W[i];
                    m[i] = beta1 * m[i] + (1 - beta1) * g;
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                    double d = Math.Sqrt(v[i] / (1 - Math.Pow(beta2, t))) + eps;
                    p.W[i] -= lr * (1 - mu) / (1 - product[0]) * g / d + lr * muNext / (1 - next) * m[i] / d;
                }
            }
        };

    static IEnumerable<TestCaseData> FormulaCases()
    {
        foreach (var impl in new[] { Implementation.Readable, Implementation.Fused })
        {
            yield return new TestCaseData(impl, false, false).SetName($"NAdam_{impl}_matches_float64_formula_over_100_steps");
            yield return new TestCaseData(impl, true, false).SetName($"NAdamW_{impl}_decoupled_weight_decay_matches_float64_formula_over_100_steps");
            yield return new TestCaseData(impl, true, true).SetName($"NAdamW_{impl}_maximize_matches_float64_formula_over_100_steps");
        }
    }

    [TestCaseSource(nameof(FormulaCases))]
    public void Matches_formula(Implementation impl, bool decoupled, bool maximize) =>
        PaperChecks.AssertMatchesReference(
            p => new NAdam(p, lr: 2e-3, beta1: 0.85, beta2: 0.99, eps: 1e-7, weightDecay: 5e-2, momentumDecay: 8e-3,
                decoupledWeightDecay: decoupled, maximize: maximize) { Implementation = impl },
            Reference(2e-3, 0.85, 0.99, 1e-7, 5e-2, 8e-3, decoupled, maximize));

    [TestCase(ScalarType.Float64)]
    [TestCase(ScalarType.Float32)]
    public void NAdam_fused_equals_readable_over_200_steps(ScalarType dtype)
    {
        var r = PaperChecks.PathDifference(
            p => new NAdam(p, lr: 2e-3, beta1: 0.8, weightDecay: 1e-2, decoupledWeightDecay: true, maximize: true),
            Implementation.Fused, Implementation.Readable, dtype);
        PaperChecks.AssertRoundingOnly(r, dtype);
    }

    static IEnumerable<TestCaseData> ResumeCases()
    {
        foreach (var impl in new[] { Implementation.Readable, Implementation.Fused })
            foreach (var via in new[] { Resume.StateDict, Resume.File })
                yield return new TestCaseData(impl, via).SetName($"NAdam_{impl}_resumes_bit_identically_through_{via}");
    }

    [TestCaseSource(nameof(ResumeCases))]
    public void Resumes(Implementation impl, Resume via) =>
        Assert.That(PaperChecks.ResumeDifference(
            p => new NAdam(p, lr: 1e-2, weightDecay: 1e-3, momentumDecay: 1e-2) { Implementation = impl }, via), Is.EqualTo(0));

    [Test]
    public void NAdam_state_holds_mu_product()
    {
        using var h = new PaperHarness(ScalarType.Float64);
        using var nadam = new NAdam(h.ParamsA, lr: 1e-2);
        for (int i = 0; i < 3; i++) using (NewDisposeScope()) nadam.step(h.Closure(h.A, nadam));
        var state = nadam.StateOf(h.ParamsA[0]);
        Assert.That(state.Buffers.Keys, Is.EquivalentTo(new[] { "exp_avg", "exp_avg_sq", "mu_product" }));
        double expected = 1;
        for (int t = 1; t <= 3; t++) expected *= 0.9 * (1 - 0.5 * Math.Pow(0.96, t * 4e-3));
        Assert.That(state["mu_product"].ToDouble(), Is.EqualTo(expected));
    }

    [Test]
    public void NAdam_rejects_bad_hyperparameters()
    {
        var p = new[] { new Parameter(zeros(2, ScalarType.Float64)) };
        PaperChecks.Rejects(() => new NAdam(p, lr: -2e-3), "lr", "-0.002");
        PaperChecks.Rejects(() => new NAdam(p, beta1: -0.9), "beta1", "-0.9");
        PaperChecks.Rejects(() => new NAdam(p, beta2: 1.0), "beta2", "1");
        PaperChecks.Rejects(() => new NAdam(p, eps: -1e-8), "eps", "-1E-08");
        PaperChecks.Rejects(() => new NAdam(p, weightDecay: -1e-3), "weight_decay", "-0.001");
        PaperChecks.Rejects(() => new NAdam(p, momentumDecay: double.NaN), "momentum_decay", "NaN");
    }
}
