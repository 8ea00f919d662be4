using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>LARS against Algorithm 1 of You, Gitman and Ginsburg (2017), written here in float64.</summary>
public class LarsTests
{
    /// <summary>The paper's update for every tensor; 1-d tensors take plain momentum SGD when skipped.</summary>
    static Action<RefTensor[], double[][], int> Reference(double lr, double momentum, double weightDecay, double eta, bool skip, bool maximize = false) =>
        (parameters, grads, t) =>
        {
            for (int k = 0; k < parameters.Length; k++)
            {
                var p = parameters[k];
                int n = p.W.Length;
                var v = p.Buffer("v", n);
                var g = grads[k].Select(x => maximize ? -x : x).ToArray();
                bool plain = skip && p.Shape.Length <= 1;
                double local = 1, decay = plain ? 0 : weightDecay;
                if (!plain)
                {
                    double weightNorm = PaperChecks.Norm(p.W), gradNorm = PaperChecks.Norm(g);
                    if (weightNorm > 0 && gradNorm > 0) local = eta * weightNorm / (gradNorm + weightDecay * weightNorm);
                }
                for (int i = 0; i < n; i++)
                {
                    v[i] = momentum * v[i] + lr * local * (g[i] + decay * p.W[i]);
                    p.W[i] -= v[i];
                }
            }
        };

    static IEnumerable<TestCaseData> Cases()
    {
        // Without weight decay λ_local = η‖θ‖/‖g‖ grows without bound as ‖g‖ → 0 and the
        // normalized steps turn chaotic near the minimum (rounding differences then double every
        // few steps), so the long runs use β > 0 (λ_local ≤ η/β) or a small η.
        yield return new TestCaseData(1.0, 0.9, 0.0, 1e-3, true, false).SetName("Lars_matches_paper_over_100_steps_float64");
        yield return new TestCaseData(1.0, 0.9, 1e-2, 1e-2, true, false).SetName("Lars_with_weight_decay_skipping_vectors_matches_paper_over_100_steps_float64");
        yield return new TestCaseData(1.0, 0.8, 2e-2, 1e-2, false, false).SetName("Lars_adapting_vectors_too_matches_paper_over_100_steps_float64");
        yield return new TestCaseData(1.0, 0.9, 1e-2, 1e-2, true, true).SetName("Lars_maximize_matches_paper_over_100_steps_float64");
    }

    [TestCaseSource(nameof(Cases))]
    public void Matches_paper(double lr, double momentum, double weightDecay, double eta, bool skip, bool maximize) =>
        PaperChecks.AssertMatchesReference(
            p => new Lars(p, lr, momentum, weightDecay, eta, skip, maximize), Reference(lr, momentum, weightDecay, eta, skip, maximize));

    [Test]
    public void Lars_leaves_vectors_unadapted()
    {
        // A bias (1-d) moves by lr·g, a weight by lr·η·‖w‖/(‖g‖ + β‖w‖)·(g + βw).
        using var layer = nn.Linear(2, 1, dtype: ScalarType.Float64);
        var weight = layer.weight!;
        var bias = layer.bias!;
        using (no_grad())
        {
            weight.copy_(tensor(new[] { 3.0, 4.0 }, new long[] { 1, 2 }));
            bias.zero_();
        }
        weight.grad = tensor(new[] { 0.6, 0.8 }, new long[] { 1, 2 });
        bias.grad = tensor(new[] { 0.5 });
        using var lars = new Lars(layer.parameters(), lr: 0.1, momentum: 0, weightDecay: 0, trustCoefficient: 0.01);
        lars.step();
        // ‖w‖ = 5, ‖g‖ = 1: local lr 0.05
        Assert.That(weight.data<double>().ToArray(), Is.EqualTo(new[] { 3 - 0.1 * 0.05 * 0.6, 4 - 0.1 * 0.05 * 0.8 }).Within(1e-15));
        Assert.That(bias.data<double>().ToArray(), Is.EqualTo(new[] { -0.05 }).Within(1e-15));
    }

    [TestCase(Resume.StateDict)]
    [TestCase(Resume.File)]
    public void Lars_resumes_bit_identically(Resume via) =>
        Assert.That(PaperChecks.ResumeDifference(p => new Lars(p, lr: 2.0, weightDecay: 5e-4, trustCoefficient: 1e-2), via), Is.EqualTo(0));

    [Test]
    public void Lars_rejects_bad_hyperparameters()
    {
        var p = new[] { new Parameter(zeros(2, ScalarType.Float64)) };
        PaperChecks.Rejects(() => new Lars(p, lr: -1), "lr", "-1");
        PaperChecks.Rejects(() => new Lars(p, momentum: -0.5), "momentum", "-0.5");
        PaperChecks.Rejects(() => new Lars(p, weightDecay: -1), "weight_decay", "-1");
        PaperChecks.Rejects(() => new Lars(p, trustCoefficient: 0), "trust_coefficient", "0");
    }
}
