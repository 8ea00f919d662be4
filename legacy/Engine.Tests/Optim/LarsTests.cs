using Engine.Nn;
using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>LARS against Algorithm 1 of You, Gitman and Ginsburg (2017), written here in float64.</summary>
public class LarsTests
{
    /// <summary>The paper's update for every tensor; biases (NoWeightDecay) take plain momentum SGD when skipped.</summary>
    static Action<RefParam[], double[][], int> Reference(double lr, double momentum, double weightDecay, double eta, bool skip, bool maximize = false) =>
        (parameters, grads, t) =>
        {
            for (int k = 0; k < parameters.Length; k++)
            {
                var p = parameters[k];
                int n = p.W.Length;
                var v = p.Buffer("v", n);
                var g = grads[k].Select(x => maximize ? -x : x).ToArray();
                bool plain = skip && p.NoWeightDecay;
                double local = 1, decay = plain ? 0 : weightDecay;
                if (!plain)
                {
                    double weightNorm = OptimizerChecks.Norm(p.W), gradNorm = OptimizerChecks.Norm(g);
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
        yield return new TestCaseData(1.0, 0.9, 1e-2, 1e-2, true, false).SetName("Lars_with_weight_decay_skipping_biases_matches_paper_over_100_steps_float64");
        yield return new TestCaseData(1.0, 0.8, 2e-2, 1e-2, false, false).SetName("Lars_adapting_biases_too_matches_paper_over_100_steps_float64");
        yield return new TestCaseData(1.0, 0.9, 1e-2, 1e-2, true, true).SetName("Lars_maximize_matches_paper_over_100_steps_float64");
    }

    [TestCaseSource(nameof(Cases))]
    public void Matches_paper(double lr, double momentum, double weightDecay, double eta, bool skip, bool maximize)
    {
        OptimizerChecks.AssertMatchesReference(
            p => new Lars(p, lr, momentum, weightDecay, eta, skip, maximize), Reference(lr, momentum, weightDecay, eta, skip, maximize));
    }

    [Test]
    public void Lars_leaves_no_weight_decay_parameters_unadapted()
    {
        // A bias (flagged NoWeightDecay by Linear) moves by lr·g, a weight by lr·η·‖w‖/(‖g‖ + β‖w‖)·(g + βw).
        using var layer = new Linear(2, 1, dtype: ScalarType.Float64, device: Device.CPU);
        var weight = layer.Weight;
        var bias = layer.Bias!;
        Assert.That(bias.NoWeightDecay && !weight.NoWeightDecay, Is.True);
        using (Torch.NoGrad())
        {
            using var w = Torch.FromSpan<double>([3.0, 4.0], [1, 2], Device.CPU);
            weight.Copy_(w);
            bias.Zero_();
        }
        using (var g = Torch.FromSpan<double>([0.6, 0.8], [1, 2], Device.CPU)) weight.Grad = g;
        using (var g = Torch.FromSpan<double>([0.5], [1], Device.CPU)) bias.Grad = g;
        using var lars = new Lars(layer.Parameters(), lr: 0.1, momentum: 0, weightDecay: 0, trustCoefficient: 0.01);
        lars.Step();
        // ‖w‖ = 5, ‖g‖ = 1: local lr 0.05
        Assert.That(weight.ToArray<double>(), Is.EqualTo(new[] { 3 - 0.1 * 0.05 * 0.6, 4 - 0.1 * 0.05 * 0.8 }).Within(1e-15));
        Assert.That(bias.ToArray<double>(), Is.EqualTo(new[] { -0.05 }).Within(1e-15));
    }

    [Test]
    public void Lars_resumes_exactly_from_its_state_dict() =>
        Assert.That(OptimizerChecks.ResumeDifference(p => new Lars(p, lr: 2.0, weightDecay: 5e-4, trustCoefficient: 1e-2)), Is.EqualTo(0));

    [Test]
    public void Lars_rejects_bad_hyperparameters()
    {
        using var p = Torch.Zeros([2], ScalarType.Float64, Device.CPU).RequiresGrad_();
        Assert.That(() => new Lars([p], lr: double.PositiveInfinity), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lars([p], momentum: -0.5), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lars([p], weightDecay: -1), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lars([p], trustCoefficient: 0), Throws.InstanceOf<ArgumentException>());
    }
}
