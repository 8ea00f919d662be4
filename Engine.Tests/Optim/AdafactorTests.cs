using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>Adafactor against Algorithms 4 (factored, for matrices) and 5 (vectors) of Shazeer
/// and Stern (2018), written here in float64 with the paper's row and column sums.</summary>
public class AdafactorTests
{
    sealed record Config(double? Lr = null, double Beta1 = 0, double WeightDecay = 0, bool ScaleParameter = true,
        bool WarmupInit = false, double ClipThreshold = 1.0, double DecayRate = -0.8, double Eps1 = 1e-30, double Eps2 = 1e-3);

    static Action<RefTensor[], double[][], int> Reference(Config c) =>
        (parameters, grads, t) =>
        {
            for (int k = 0; k < parameters.Length; k++)
            {
                var p = parameters[k];
                var g = grads[k];
                int n = p.W.Length;
                double rms = PaperChecks.Norm(p.W) / Math.Sqrt(n);
                double rho = c.Lr ?? Math.Min(c.WarmupInit ? 1e-6 * t : 1e-2, 1 / Math.Sqrt(t));
                double alpha = c.ScaleParameter ? Math.Max(c.Eps2, rms) * rho : rho;
                double beta2 = 1 - Math.Pow(t, c.DecayRate);
                var u = new double[n];
                if (p.Shape.Length >= 2)
                {
                    // R ← β̂₂R + (1 − β̂₂)(G² + ε₁)1ₘ,  C ← β̂₂C + (1 − β̂₂)1ₙᵀ(G² + ε₁),  V̂ = RC / 1ₙᵀR
                    int rows = p.Rows, cols = p.Cols;
                    var r = p.Buffer("R", rows);
                    var col = p.Buffer("C", cols);
                    for (int i = 0; i < rows; i++)
                    {
                        double sum = 0;
                        for (int j = 0; j < cols; j++) sum += g[i * cols + j] * g[i * cols + j] + c.Eps1;
                        r[i] = beta2 * r[i] + (1 - beta2) * sum;
                    }
                    for (int j = 0; j < cols; j++)
                    {
                        double sum = 0;
                        for (int i = 0; i < rows; i++) sum += g[i * cols + j] * g[i * cols + j] + c.Eps1;
                        col[j] = beta2 * col[j] + (1 - beta2) * sum;
                    }
                    double total = r.Sum();
                    for (int i = 0; i < rows; i++)
                        for (int j = 0; j < cols; j++)
                            u[i * cols + j] = g[i * cols + j] / Math.Sqrt(r[i] * col[j] / total);
                }
                else
                {
                    var v = p.Buffer("V", n);
                    for (int i = 0; i < n; i++)
                    {
                        v[i] = beta2 * v[i] + (1 - beta2) * (g[i] * g[i] + c.Eps1);
                        u[i] = g[i] / Math.Sqrt(v[i]);
                    }
                }
                double clip = Math.Max(1, PaperChecks.Norm(u) / Math.Sqrt(n) / c.ClipThreshold);
                for (int i = 0; i < n; i++) u[i] = alpha * u[i] / clip;
                if (c.Beta1 > 0)
                {
                    var m = p.Buffer("m", n);
                    for (int i = 0; i < n; i++) u[i] = m[i] = c.Beta1 * m[i] + (1 - c.Beta1) * u[i];
                }
                for (int i = 0; i < n; i++) p.W[i] = p.W[i] - c.WeightDecay * alpha * p.W[i] - u[i];
            }
        };

    static Adafactor Make(Parameter[] p, Config c) =>
        new(p, lr: c.Lr, eps1: c.Eps1, eps2: c.Eps2, clipThreshold: c.ClipThreshold, decayRate: c.DecayRate, beta1: c.Beta1,
            weightDecay: c.WeightDecay, scaleParameter: c.ScaleParameter, warmupInit: c.WarmupInit);

    static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(new Config()).SetName("Adafactor_relative_step_matches_paper_over_100_steps_float64");
        yield return new TestCaseData(new Config(Beta1: 0.9, WeightDecay: 0.1, ClipThreshold: 0.5)).SetName("Adafactor_first_moment_weight_decay_clipping_matches_paper_over_100_steps_float64");
        yield return new TestCaseData(new Config(Lr: 1e-2, ScaleParameter: false, DecayRate: -0.6)).SetName("Adafactor_external_lr_matches_paper_over_100_steps_float64");
        yield return new TestCaseData(new Config(WarmupInit: true, Eps2: 1e-2)).SetName("Adafactor_warmup_init_matches_paper_over_100_steps_float64");
    }

    [TestCaseSource(nameof(Cases))]
    public void Matches_paper(object config)
    {
        var c = (Config)config;
        // Warm-up keeps ρₜ = 10⁻⁶·t tiny over 100 steps: the weights move by ~10⁻⁴.
        PaperChecks.AssertMatchesReference(p => Make(p, c), Reference(c), minMoved: c.WarmupInit ? 1e-5 : 1e-2);
    }

    [Test]
    public void Adafactor_keeps_factored_second_moments_for_matrices()
    {
        using var h = new PaperHarness(ScalarType.Float64);
        using var adafactor = new Adafactor(h.ParamsA, beta1: 0.9);
        using (NewDisposeScope()) adafactor.step(h.Closure(h.A, adafactor));
        var weight = adafactor.StateOf(h.ParamsA[0]);   // [16, 6]
        Assert.That(weight.Buffers.Keys, Is.EquivalentTo(new[] { "exp_avg_sq_row", "exp_avg_sq_col", "exp_avg" }));
        Assert.That(weight["exp_avg_sq_row"].shape, Is.EqualTo(new long[] { 16 }));
        Assert.That(weight["exp_avg_sq_col"].shape, Is.EqualTo(new long[] { 6 }));
        var bias = adafactor.StateOf(h.ParamsA[1]);
        Assert.That(bias.Buffers.Keys, Is.EquivalentTo(new[] { "exp_avg_sq", "exp_avg" }));
    }

    [TestCase(Resume.StateDict)]
    [TestCase(Resume.File)]
    public void Adafactor_resumes_bit_identically(Resume via) =>
        Assert.That(PaperChecks.ResumeDifference(p => new Adafactor(p, beta1: 0.9, weightDecay: 0.01), via), Is.EqualTo(0));

    [Test]
    public void Adafactor_rejects_bad_hyperparameters()
    {
        var p = new[] { new Parameter(zeros(2, ScalarType.Float64)) };
        PaperChecks.Rejects(() => new Adafactor(p, lr: -1), "lr", "-1");
        PaperChecks.Rejects(() => new Adafactor(p, eps1: -1e-30), "eps1", "-1E-30");
        PaperChecks.Rejects(() => new Adafactor(p, eps2: double.NaN), "eps2", "NaN");
        PaperChecks.Rejects(() => new Adafactor(p, clipThreshold: 0), "clip_threshold", "0");
        PaperChecks.Rejects(() => new Adafactor(p, decayRate: 0.8), "decay_rate", "0.8");
        PaperChecks.Rejects(() => new Adafactor(p, beta1: 1), "beta1", "1");
        PaperChecks.Rejects(() => new Adafactor(p, weightDecay: -0.1), "weight_decay", "-0.1");
        PaperChecks.Rejects(() => new Adafactor(p, lr: 1e-3, warmupInit: true), "warmup_init", "relative_step");
    }
}
