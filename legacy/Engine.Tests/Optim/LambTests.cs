using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>LAMB against Algorithm 2 of You et al. (2019), written here in float64.</summary>
public class LambTests
{
    /// <summary>The paper's update for every tensor ("layer"), from the arrays alone.</summary>
    static Action<RefParam[], double[][], int> Reference(double lr, double beta1, double beta2, double eps, double weightDecay, bool maximize = false) =>
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
                double weightNorm = OptimizerChecks.Norm(p.W), updateNorm = OptimizerChecks.Norm(r);
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
    public void Matches_paper(double lr, double beta1, double beta2, double eps, double weightDecay, bool maximize)
    {
        OptimizerChecks.AssertMatchesReference(
            p => new Lamb(p, lr, beta1, beta2, eps, weightDecay, maximize), Reference(lr, beta1, beta2, eps, weightDecay, maximize));
    }

    [Test]
    public void Lamb_trust_ratio_is_one_when_the_weights_are_zero()
    {
        using var p = Torch.Zeros([3], ScalarType.Float64, Device.CPU).RequiresGrad_();
        using (var g = Torch.FromSpan<double>([1.0, -2.0, 4.0], [3], Device.CPU)) p.Grad = g;
        using var lamb = new Lamb([p], lr: 0.1, eps: 0);
        lamb.Step();
        // t = 1: m̂ = g, v̂ = g², r = sign(g); ‖θ‖ = 0 so the trust ratio is 1.
        Assert.That(p.ToArray<double>(), Is.EqualTo(new[] { -0.1, 0.1, -0.1 }).Within(1e-15));
    }

    [Test]
    public void Lamb_resumes_exactly_from_its_state_dict() =>
        Assert.That(OptimizerChecks.ResumeDifference(p => new Lamb(p, lr: 1e-2, weightDecay: 0.01)), Is.EqualTo(0));

    [Test]
    public void Lamb_rejects_bad_hyperparameters()
    {
        using var p = Torch.Zeros([2], ScalarType.Float64, Device.CPU).RequiresGrad_();
        Assert.That(() => new Lamb([p], lr: -1), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lamb([p], beta1: 1), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lamb([p], beta2: -0.1), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lamb([p], eps: double.NaN), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lamb([p], weightDecay: -1e-2), Throws.InstanceOf<ArgumentException>());
    }
}
