using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>Lion against Program 1 of Chen et al. (2023), written here in float64.</summary>
public class LionTests
{
    static Action<RefParam[], double[][], int> Reference(double lr, double beta1, double beta2, double weightDecay, bool maximize = false) =>
        (parameters, grads, t) =>
        {
            for (int k = 0; k < parameters.Length; k++)
            {
                var p = parameters[k];
                var m = p.Buffer("m", p.W.Length);
                for (int i = 0; i < p.W.Length; i++)
                {
                    double g = maximize ? -grads[k][i] : grads[k][i];
                    double c = beta1 * m[i] + (1 - beta1) * g;
                    p.W[i] -= lr * (Math.Sign(c) + weightDecay * p.W[i]);
                    m[i] = beta2 * m[i] + (1 - beta2) * g;
                }
            }
        };

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var impl in new[] { Implementation.Readable, Implementation.Fused, Implementation.Foreach })
        {
            yield return new TestCaseData(impl, 1e-3, 0.9, 0.99, 0.0, false).SetName($"Lion_{impl}_matches_paper_over_100_steps_float64");
            yield return new TestCaseData(impl, 2e-3, 0.8, 0.95, 0.1, false).SetName($"Lion_{impl}_with_weight_decay_matches_paper_over_100_steps_float64");
            yield return new TestCaseData(impl, 1e-3, 0.9, 0.99, 0.3, true).SetName($"Lion_{impl}_maximize_matches_paper_over_100_steps_float64");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Matches_paper(Implementation impl, double lr, double beta1, double beta2, double weightDecay, bool maximize)
    {
        OptimizerChecks.AssertMatchesReference(
            p => new Lion(p, lr, beta1, beta2, weightDecay, maximize) { Implementation = impl }, Reference(lr, beta1, beta2, weightDecay, maximize));
    }

    [Test]
    public void Lion_moves_every_coordinate_by_exactly_lr()
    {
        using var p = Torch.FromSpan<double>([1.0, -1.0, 0.5, 0.0], [4], Device.CPU).RequiresGrad_();
        using (var g = Torch.FromSpan<double>([3.0, -1e-9, 0.0, -7.0], [4], Device.CPU)) p.Grad = g;
        using var lion = new Lion([p], lr: 0.25);
        lion.Step();
        // sign(c) with m = 0: sign(g); a zero gradient leaves its coordinate alone.
        Assert.That(p.ToArray<double>(), Is.EqualTo(new[] { 0.75, -0.75, 0.5, 0.25 }));
    }

    [TestCase(Implementation.Readable)]
    [TestCase(Implementation.Fused)]
    [TestCase(Implementation.Foreach)]
    public void Lion_resumes_exactly_from_its_state_dict(Implementation impl) =>
        Assert.That(OptimizerChecks.ResumeDifference(p => new Lion(p, lr: 1e-3, weightDecay: 0.1) { Implementation = impl }), Is.EqualTo(0));

    [Test]
    public void Lion_rejects_bad_hyperparameters()
    {
        using var p = Torch.Zeros([2], ScalarType.Float64, Device.CPU).RequiresGrad_();
        Assert.That(() => new Lion([p], lr: -1e-4), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lion([p], beta1: 1.0), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lion([p], beta2: 1.5), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lion([p], weightDecay: double.NaN), Throws.InstanceOf<ArgumentException>());
    }
}
