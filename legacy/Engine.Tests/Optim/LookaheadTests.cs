using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>Lookahead against Algorithm 1 of Zhang et al. (2019), written here in float64 around
/// inner optimizers also written here from their papers.</summary>
public class LookaheadTests
{
    /// <summary>Heavy-ball SGD: b ← ρb + g, θ ← θ − ηb.</summary>
    internal static Action<RefParam, double[], int> SgdMomentum(double lr, double momentum) =>
        (p, g, t) =>
        {
            var b = p.Buffer("b", p.W.Length);
            for (int i = 0; i < p.W.Length; i++)
            {
                b[i] = momentum * b[i] + g[i];
                p.W[i] -= lr * b[i];
            }
        };

    /// <summary>Adam (Kingma and Ba, 2015, Algorithm 1).</summary>
    internal static Action<RefParam, double[], int> Adam(double lr, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8) =>
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

    /// <summary>φ ← θ₀; each step the inner rule moves θ; every k-th step φ ← φ + α(θ − φ), θ ← φ.</summary>
    internal static Action<RefParam[], double[][], int> Reference(Action<RefParam, double[], int> inner, int k, double alpha) =>
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
        yield return new TestCaseData((Func<Tensor[], Optimizer>)(p => new Lookahead(new Sgd(p, lr: 0.1, momentum: 0.9), k: 5, alpha: 0.5)),
            Reference(SgdMomentum(0.1, 0.9), 5, 0.5)).SetName("Lookahead_sgd_momentum_matches_paper_over_100_steps_float64");
        yield return new TestCaseData((Func<Tensor[], Optimizer>)(p => new Lookahead(new Adam(p, lr: 1e-2), k: 7, alpha: 0.8)),
            Reference(Adam(1e-2), 7, 0.8)).SetName("Lookahead_adam_matches_paper_over_100_steps_float64");
        yield return new TestCaseData((Func<Tensor[], Optimizer>)(p => new Lookahead(new Adam(p, lr: 1e-2), k: 1, alpha: 1.0)),
            Reference(Adam(1e-2), 1, 1.0)).SetName("Lookahead_k1_alpha1_is_the_inner_optimizer_float64");
        yield return new TestCaseData((Func<Tensor[], Optimizer>)(p => new Ranger(p, q => new Adam(q, lr: 1e-2, beta1: 0.95, eps: 1e-5))),
            Reference(Adam(1e-2, beta1: 0.95, eps: 1e-5), 6, 0.5)).SetName("Ranger_over_adam_is_lookahead_k6_alpha05_over_100_steps_float64");
    }

    [TestCaseSource(nameof(Cases))]
    public void Matches_paper(Func<Tensor[], Optimizer> make, Action<RefParam[], double[][], int> reference)
    {
        OptimizerChecks.AssertMatchesReference(make, reference);
    }

    [Test]
    public void Lookahead_shares_the_inner_groups_so_schedules_reach_the_inner_optimizer()
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        var adam = new Adam(h.ParamsA, lr: 1e-2);
        using var lookahead = new Lookahead(adam);
        Assert.That(lookahead.ParamGroups, Is.EqualTo(adam.ParamGroups));
        lookahead.ParamGroups[0].LearningRate = 5e-3;
        Assert.That(adam.ParamGroups[0].LearningRate, Is.EqualTo(5e-3));
    }

    [Test]
    public void Lookahead_adds_groups_to_the_inner_optimizer_with_their_slow_weights()
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        var pa = h.ParamsA;
        var sgd = new Sgd(pa[..2], lr: 0.1);
        using var lookahead = new Lookahead(sgd, k: 2);
        lookahead.AddParamGroup(new ParamGroupSpec(pa[2..], o => o.LearningRate = 0.05));
        Assert.That(sgd.ParamGroups, Has.Count.EqualTo(2));
        Assert.That(lookahead.ParamGroups, Has.Count.EqualTo(2));
        Assert.That(lookahead.States.Keys, Is.EquivalentTo(pa));
    }

    [TestCase(5)]
    [TestCase(7)]
    public void Lookahead_resumes_exactly_from_its_state_dict(int k) =>
        // k = 7: the resume falls in the middle of a cycle, so the slow weights and the count matter.
        Assert.That(OptimizerChecks.ResumeDifference(p => new Lookahead(new Adam(p, lr: 1e-2), k: k, alpha: 0.5)), Is.EqualTo(0));

    [Test]
    public void Ranger_resumes_exactly_from_its_state_dict() =>
        Assert.That(OptimizerChecks.ResumeDifference(p => new Ranger(p, q => new Adam(q, lr: 1e-2, beta1: 0.95, eps: 1e-5))), Is.EqualTo(0));

    [Test]
    public void Lookahead_state_dict_holds_slow_weights_and_the_step_count()
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var lookahead = new Lookahead(new Adam(h.ParamsA, lr: 1e-2), k: 3);
        for (int i = 0; i < 4; i++)
        {
            using var scope = DisposeScope.Begin();
            lookahead.Step(() => h.LossAndBackward(h.A));
        }
        using var state = lookahead.StateDict();
        Assert.That(state.State[0].Buffers.Keys, Is.EquivalentTo(new[] { "exp_avg", "exp_avg_sq", "slow_param" }));
        Assert.That(state.State[0].Step, Is.EqualTo(4));
        Assert.That(state.Groups[0].Values["lookahead_step"], Is.EqualTo(4));
    }

    [Test]
    public void Lookahead_rejects_bad_hyperparameters()
    {
        using var p = Torch.Zeros([2], ScalarType.Float64, Device.CPU).RequiresGrad_();
        Assert.That(() => new Lookahead(new Sgd([p]), k: 0), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lookahead(new Sgd([p]), alpha: 1.5), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lookahead(new Sgd([p]), alpha: double.NaN), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Lookahead(null!), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new Ranger([p], q => new Adam(q), k: -1), Throws.InstanceOf<ArgumentException>());
    }
}
