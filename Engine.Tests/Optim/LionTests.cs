using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>Lion against Program 1 of Chen et al. (2023), written here in float64; its three
/// update paths against each other.</summary>
public class LionTests
{
    static Action<RefTensor[], double[][], int> Reference(double lr, double beta1, double beta2, double weightDecay, bool maximize = false) =>
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

    static readonly Implementation[] Paths = [Implementation.Readable, Implementation.Fused, Implementation.Flat];

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var impl in Paths)
        {
            yield return new TestCaseData(impl, 1e-3, 0.9, 0.99, 0.0, false).SetName($"Lion_{impl}_matches_paper_over_100_steps_float64");
            yield return new TestCaseData(impl, 2e-3, 0.8, 0.95, 0.1, false).SetName($"Lion_{impl}_with_weight_decay_matches_paper_over_100_steps_float64");
            yield return new TestCaseData(impl, 1e-3, 0.9, 0.99, 0.3, true).SetName($"Lion_{impl}_maximize_matches_paper_over_100_steps_float64");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void Matches_paper(Implementation impl, double lr, double beta1, double beta2, double weightDecay, bool maximize) =>
        PaperChecks.AssertMatchesReference(
            p => new Lion(p, lr, beta1, beta2, weightDecay, maximize) { Implementation = impl }, Reference(lr, beta1, beta2, weightDecay, maximize));

    static IEnumerable<TestCaseData> PathCases()
    {
        foreach (var dtype in new[] { ScalarType.Float64, ScalarType.Float32 })
            foreach (var impl in new[] { Implementation.Fused, Implementation.Flat })
                yield return new TestCaseData(impl, dtype).SetName($"Lion_{impl}_equals_readable_over_200_steps_{dtype}");
    }

    [TestCaseSource(nameof(PathCases))]
    public void Path_equals_readable(Implementation impl, ScalarType dtype)
    {
        var r = PaperChecks.PathDifference(p => new Lion(p, lr: 1e-3, beta1: 0.8, beta2: 0.95, weightDecay: 0.1, maximize: true),
            impl, Implementation.Readable, dtype);
        // Every path computes c = β₁m + (1 − β₁)g with one FMA, as libtorch's add-with-alpha, and
        // moves by ±lr exactly, so they agree to the bit (measured 0); a difference would be a
        // flipped sign, ≥ lr = 1e-3 relative. 1e-12 still tells the two apart on any CPU.
        Assert.That(r.Worst, Is.LessThan(1e-12));
    }

    [Test]
    public void Lion_moves_every_coordinate_by_exactly_lr()
    {
        var p = new Parameter(tensor(new[] { 1.0, -1.0, 0.5, 0.0 }));
        p.grad = tensor(new[] { 3.0, -1e-9, 0.0, -7.0 });
        using var lion = new Lion([p], lr: 0.25);
        lion.step();
        // sign(c) with m = 0: sign(g); a zero gradient leaves its coordinate alone.
        Assert.That(p.data<double>().ToArray(), Is.EqualTo(new[] { 0.75, -0.75, 0.5, 0.25 }));
    }

    static IEnumerable<TestCaseData> ResumeCases()
    {
        foreach (var impl in Paths)
            foreach (var via in new[] { Resume.StateDict, Resume.File })
                yield return new TestCaseData(impl, via).SetName($"Lion_{impl}_resumes_bit_identically_through_{via}");
    }

    [TestCaseSource(nameof(ResumeCases))]
    public void Resumes(Implementation impl, Resume via) =>
        Assert.That(PaperChecks.ResumeDifference(p => new Lion(p, lr: 1e-3, weightDecay: 0.1) { Implementation = impl }, via), Is.EqualTo(0));

    [Test]
    public void Lion_rejects_bad_hyperparameters()
    {
        var p = new[] { new Parameter(zeros(2, ScalarType.Float64)) };
        PaperChecks.Rejects(() => new Lion(p, lr: -1e-4), "lr", "-0.0001");
        PaperChecks.Rejects(() => new Lion(p, beta1: 1.0), "beta1", "1");
        PaperChecks.Rejects(() => new Lion(p, beta2: 1.5), "beta2", "1.5");
        PaperChecks.Rejects(() => new Lion(p, weightDecay: double.NaN), "weight_decay", "NaN");
    }
}
