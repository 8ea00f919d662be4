using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>LAMB against Algorithm 2 of You et al. (2019), written here in float64.</summary>
public class LambTests
{
    /// <summary>The paper's update for every tensor ("layer"), from the arrays alone.</summary>
    static Action<RefTensor[], double[][], int> Reference(double lr, double beta1, double beta2, double eps, double weightDecay, bool maximize = false) =>
        (parameters, grads, t) =>
        {
            for (int k = 0; k < parameters.Length; k++)
            {
                var p = parameters[k];
                int n = p.W.Length;
                var m = p.Buffer("m", n);
                var v = p.Buffer("v", n);
                var r = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double g = maximize ? -grads[k][i] : grads[k][i];
                    m[i] = beta1 * m[i] + (1 - beta1) * g;
                    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
                    double mHat = m[i] / (1 - Math.Pow(beta1, t));
                    double vHat = v[i] / (1 - Math.Pow(beta2, t));
                    r[i] = mHat / (Math.Sqrt(vHat) + eps) + weightDecay * p.W[i];
                }
                double weightNorm = PaperChecks.Norm(p.W), updateNorm = PaperChecks.Norm(r);
                double trust = weightNorm > 0 && updateNorm > 0 ? weightNorm / updateNorm : 1;
                for (int i = 0; i < n; i++) p.W[i] -= lr * trust * r[i];
            }
        };

    static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(1e-2, 0.9, 0.999, 1e-6, 0.0, false).SetName("Lamb_matches_paper_over_100_steps_float64");
        yield return new TestCaseData(2e-2, 0.8, 0.99, 1e-8, 0.01, false).SetName("Lamb_with_weight_decay_matches_paper_over_100_steps_float64");
        yield return new TestCaseData(1e-2, 0.9, 0.999, 1e-6, 0.1, true).SetName("Lamb_maximize_matches_paper_over_100_steps_float64");
    }

    [TestCaseSource(nameof(Cases))]
    public void Matches_paper(double lr, double beta1, double beta2, double eps, double weightDecay, bool maximize) =>
        PaperChecks.AssertMatchesReference(
            p => new Lamb(p, lr, beta1, beta2, eps, weightDecay, maximize), Reference(lr, beta1, beta2, eps, weightDecay, maximize));

    [Test]
    public void Lamb_trust_ratio_is_one_when_the_weights_are_zero()
    {
        var p = new Parameter(zeros(3, ScalarType.Float64));
        p.grad = tensor(new[] { 1.0, -2.0, 4.0 });
        using var lamb = new Lamb([p], lr: 0.1, eps: 0);
        lamb.step();
        // t = 1: m̂ = g, v̂ = g², r = sign(g); ‖θ‖ = 0 so the trust ratio is 1.
        Assert.That(p.data<double>().ToArray(), Is.EqualTo(new[] { -0.1, 0.1, -0.1 }).Within(1e-15));
    }

    [TestCase(Resume.StateDict)]
    [TestCase(Resume.File)]
    public void Lamb_resumes_bit_identically(Resume via) =>
        Assert.That(PaperChecks.ResumeDifference(p => new Lamb(p, lr: 1e-2, weightDecay: 0.01), via), Is.EqualTo(0));

    [Test]
    public void Lamb_rejects_bad_hyperparameters()
    {
        var p = new[] { new Parameter(zeros(2, ScalarType.Float64)) };
        PaperChecks.Rejects(() => new Lamb(p, lr: -1), "lr", "-1");
        PaperChecks.Rejects(() => new Lamb(p, beta1: 1), "beta1", "1");
        PaperChecks.Rejects(() => new Lamb(p, beta2: -0.1), "beta2", "-0.1");
        PaperChecks.Rejects(() => new Lamb(p, eps: double.NaN), "eps", "NaN");
        PaperChecks.Rejects(() => new Lamb(p, weightDecay: -1e-2), "weight_decay", "-0.01");
    }
}
