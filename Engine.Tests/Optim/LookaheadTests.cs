using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>Lookahead and Ranger against Algorithm 1 of Zhang et al. (2019), written here in
/// float64 around inner optimizers also written here from their papers.</summary>
public class LookaheadTests
{
    /// <summary>Adam (Kingma and Ba, 2015, Algorithm 1).</summary>
    static Action<RefTensor, double[], int> Adam(double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8) =>
        (p, g, t) =>
        {
            var m = p.Buffer("m", p.W.Length);
            var v = p.Buffer("v", p.W.Length);
            for (int i = 0; i < p.W.Length; i++)
            {
                m[i] = beta1 * m[i] + (1 - beta1) * g[i];
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
                p.W[i] -= lr * (m[i] / (1 - Math.Pow(beta1, t))) / (Math.Sqrt(v[i] / (1 - Math.Pow(beta2, t))) + eps);
            }
        };

    /// <summary>Lion (Chen et al., 2023, Program 1).</summary>
    static Action<RefTensor, double[], int> Lion(double lr, double beta1, double beta2, double weightDecay) =>
        (p, g, t) =>
        {
            var m = p.Buffer("m", p.W.Length);
            for (int i = 0; i < p.W.Length; i++)
            {
                double c = beta1 * m[i] + (1 - beta1) * g[i];
                p.W[i] -= lr * (Math.Sign(c) + weightDecay * p.W[i]);
                m[i] = beta2 * m[i] + (1 - beta2) * g[i];
            }
        };

    /// <summary>RAdam (Liu et al., 2020), as <see cref="RAdamTests.Reference"/> for one tensor.</summary>
    static Action<RefTensor, double[], int> RAdam(double lr, double beta1, double beta2, double eps)
    {
        var step = RAdamTests.Reference(lr, beta1, beta2, eps, 0, false, false);
        return (p, g, t) => step([p], [g], t);
    }

    /// <summary>φ ← θ₀; each step the inner rule moves θ; every k-th step φ ← φ + α(θ − φ), θ ← φ.</summary>
    static Action<RefTensor[], double[][], int> Reference(Action<RefTensor, double[], int> inner, int k, double alpha) =>
        (parameters, grads, t) =>
        {
            for (int j = 0; j < parameters.Length; j++)
            {
                var p = parameters[j];
                if (!p.State.ContainsKey("slow")) p.State["slow"] = (double[])p.W.Clone();   // φ₀ = θ₀, before any step
                inner(p, grads[j], t);
                if (t % k != 0) continue;
                var slow = p.State["slow"];
                for (int i = 0; i < p.W.Length; i++)
                {
                    slow[i] += alpha * (p.W[i] - slow[i]);
                    p.W[i] = slow[i];
                }
            }
        };

    static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData((Func<Parameter[], Optimizer>)(p => new Lookahead(new Engine.Optim.Adam(p, lr: 1e-2), k: 7, alpha: 0.8)),
            Reference(Adam(1e-2), 7, 0.8)).SetName("Lookahead_adam_matches_paper_over_100_steps_float64");
        yield return new TestCaseData((Func<Parameter[], Optimizer>)(p => new Lookahead(new Engine.Optim.Adam(p, lr: 1e-2), k: 1, alpha: 1.0)),
            Reference(Adam(1e-2), 1, 1.0)).SetName("Lookahead_k1_alpha1_is_the_inner_optimizer_float64");
        foreach (var impl in new[] { Implementation.Readable, Implementation.Fused, Implementation.Flat })
            yield return new TestCaseData((Func<Parameter[], Optimizer>)(p => new Lookahead(new Engine.Optim.Lion(p, lr: 1e-3, weightDecay: 0.1) { Implementation = impl }, k: 5, alpha: 0.5)),
                Reference(Lion(1e-3, 0.9, 0.99, 0.1), 5, 0.5)).SetName($"Lookahead_lion_{impl}_matches_paper_over_100_steps_float64");
        yield return new TestCaseData((Func<Parameter[], Optimizer>)(p => new Ranger(p, lr: 1e-2)),
            Reference(RAdam(1e-2, 0.95, 0.999, 1e-5), 6, 0.5)).SetName("Ranger_is_lookahead_k6_alpha05_around_radam_over_100_steps_float64");
        yield return new TestCaseData((Func<Parameter[], Optimizer>)(p => new Ranger(p, q => new Engine.Optim.Adam(q, lr: 1e-2, beta1: 0.95, eps: 1e-5))),
            Reference(Adam(1e-2, beta1: 0.95, eps: 1e-5), 6, 0.5)).SetName("Ranger_around_adam_is_lookahead_k6_alpha05_over_100_steps_float64");
    }

    [TestCaseSource(nameof(Cases))]
    public void Matches_paper(Func<Parameter[], Optimizer> make, Action<RefTensor[], double[][], int> reference) =>
        PaperChecks.AssertMatchesReference(make, reference);

    [Test]
    public void Lookahead_shares_the_inner_groups_so_schedules_reach_the_inner_optimizer()
    {
        using var h = new PaperHarness(ScalarType.Float64);
        var adam = new Engine.Optim.Adam(h.ParamsA, lr: 1e-2);
        using var lookahead = new Lookahead(adam);
        Assert.That(lookahead.ParamGroups, Is.EqualTo(adam.ParamGroups));
        var schedule = torch.optim.lr_scheduler.StepLR(lookahead, 1, 0.5);
        schedule.step();
        Assert.That(adam.Groups[0].LearningRate, Is.EqualTo(5e-3));
    }

    [Test]
    public void Lookahead_gives_groups_added_later_their_slow_weights()
    {
        using var h = new PaperHarness(ScalarType.Float64);
        var pa = h.ParamsA;
        var adam = new Engine.Optim.Adam(pa[..2], lr: 0.1);
        using var lookahead = new Lookahead(adam, k: 2);
        lookahead.AddParamGroup(new ParamGroupSpec(pa[2..], o => o.Lr = 0.05));
        Assert.That(adam.Groups, Has.Count.EqualTo(2));
        var before = pa[3].detach().clone();
        using (NewDisposeScope()) lookahead.step(h.Closure(h.A, lookahead));
        Assert.That(lookahead.StateOf(pa[3])["slow_param"].data<double>().ToArray(), Is.EqualTo(before.data<double>().ToArray()), "φ₀ = θ₀ for the added group");
    }

    static IEnumerable<TestCaseData> ResumeCases()
    {
        foreach (var via in new[] { Resume.StateDict, Resume.File })
        {
            // k = 7: the resume falls in the middle of a cycle, so the slow weights and the count matter.
            yield return new TestCaseData((Func<Parameter[], Optimizer>)(p => new Lookahead(new Engine.Optim.Adam(p, lr: 1e-2), k: 7, alpha: 0.5)), via)
                .SetName($"Lookahead_adam_resumes_mid_cycle_bit_identically_through_{via}");
            yield return new TestCaseData((Func<Parameter[], Optimizer>)(p => new Lookahead(new Engine.Optim.Lion(p, lr: 1e-3) { Implementation = Implementation.Flat }, k: 7)), via)
                .SetName($"Lookahead_flat_lion_resumes_mid_cycle_bit_identically_through_{via}");
            yield return new TestCaseData((Func<Parameter[], Optimizer>)(p => new Ranger(p, lr: 1e-2)), via)
                .SetName($"Ranger_resumes_bit_identically_through_{via}");
        }
    }

    [TestCaseSource(nameof(ResumeCases))]
    public void Resumes(Func<Parameter[], Optimizer> make, Resume via) =>
        Assert.That(PaperChecks.ResumeDifference(make, via), Is.EqualTo(0));

    [Test]
    public void Lookahead_state_holds_slow_weights_and_the_step_count()
    {
        using var h = new PaperHarness(ScalarType.Float64);
        using var lookahead = new Lookahead(new Engine.Optim.Adam(h.ParamsA, lr: 1e-2), k: 3);
        for (int i = 0; i < 4; i++) using (NewDisposeScope()) lookahead.step(h.Closure(h.A, lookahead));
        var sd = lookahead.state_dict();
        var state = (ParamState)sd.State[0];
        Assert.That(state.Buffers.Keys, Is.EquivalentTo(new[] { "exp_avg", "exp_avg_sq", "slow_param", "lookahead_step" }));
        Assert.That(state.Step, Is.EqualTo(4));
        Assert.That(state["lookahead_step"].ToInt64(), Is.EqualTo(4));
    }

    [Test]
    public void Lookahead_rejects_bad_hyperparameters()
    {
        var p = new[] { new Parameter(zeros(2, ScalarType.Float64)) };
        PaperChecks.Rejects(() => new Lookahead(new Engine.Optim.Adam(p), k: 0), "k", "0");
        PaperChecks.Rejects(() => new Lookahead(new Engine.Optim.Adam(p), alpha: 1.5), "alpha", "1.5");
        PaperChecks.Rejects(() => new Lookahead(new Engine.Optim.Adam(p), alpha: double.NaN), "alpha", "NaN");
        PaperChecks.Rejects(() => new Ranger(p, k: -1), "k", "-1");
        Assert.That(() => new Lookahead(null!), Throws.InstanceOf<ArgumentNullException>().With.Property("ParamName").EqualTo("inner"));
        Assert.That(() => new Lookahead(new Lookahead(new Engine.Optim.Adam(p))), Throws.ArgumentException);
    }
}
