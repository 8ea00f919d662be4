using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;
using static ContrastiveReference;

public class InfoNceTests
{
    static readonly Op s_cosine = Op.Get("aten::cosine_similarity"), s_crossEntropy = Op.Get("aten::cross_entropy_loss");

    /// <summary>The formula with loops: ℓᵢ = −log(exp(cos(qᵢ, kᵢ)/τ) / Σ_candidates exp(cos(qᵢ, c)/τ)).</summary>
    static double[] Reference(Tensor query, Tensor positive, Tensor? negatives, double tau, Reduction reduction)
    {
        var q = Rows(query);
        var k = Rows(positive);
        var n = negatives is null ? null : Rows(negatives);
        int m = negatives is null ? 0 : (int)negatives.Size(-2);
        var losses = new double[q.Length];
        for (int i = 0; i < q.Length; i++)
        {
            var logits = new List<double>();
            int target;
            if (n is null)
            {
                for (int j = 0; j < k.Length; j++) logits.Add(Cosine(q[i], k[j]) / tau);
                target = i;
            }
            else
            {
                logits.Add(Cosine(q[i], k[i]) / tau);
                for (int j = 0; j < m; j++) logits.Add(Cosine(q[i], negatives!.Dim == 2 ? n[j] : n[i * m + j]) / tau);
                target = 0;
            }
            losses[i] = CrossEntropy(logits, target);
        }
        return Reduce(losses, reduction);
    }

    /// <summary>The same logits from libtorch's cosine_similarity, into libtorch's cross_entropy_loss.</summary>
    static Tensor Libtorch(Tensor query, Tensor positive, Tensor? negatives, double tau, Reduction reduction)
    {
        long n = query.Size(0);
        Tensor logits, labels;
        if (negatives is null)
        {
            logits = s_cosine.Call(query.Unsqueeze(1), positive.Unsqueeze(0), 2L);
            labels = Torch.Arange(n, device: Device.CPU);
        }
        else
        {
            var pos = s_cosine.Call(query, positive, 1L).Unsqueeze(1);
            var neg = negatives.Dim == 2
                ? s_cosine.Call(query.Unsqueeze(1), negatives.Unsqueeze(0), 2L)
                : s_cosine.Call(query.Unsqueeze(1), negatives, 2L);
            logits = Torch.Cat([pos, neg], 1);
            labels = Torch.Zeros([n], ScalarType.Int64, Device.CPU);
        }
        return s_crossEntropy.Call(logits / tau, labels, Arg.None, (long)reduction);
    }

    [Test, Combinatorial]
    public void Matches_the_formula_and_libtorch_cross_entropy(
        [Values("in-batch", "shared", "per-query")] string negatives,
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(0.07, 0.5)] double temperature,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(141);
        var query = Randn(6, 4);
        var positive = query + Randn(6, 4) * 0.5;
        Tensor? negativeKeys = negatives switch { "shared" => Randn(5, 4), "per-query" => Randn(6, 3, 4), _ => null };

        using var ours = Functional.InfoNce(query.To(dtype), positive.To(dtype), negativeKeys?.To(dtype), temperature, reduction);
        // The reference sees the same (rounded) inputs, so the error is the arithmetic alone.
        var expected = Reference(query.To(dtype), positive.To(dtype), negativeKeys?.To(dtype), temperature, reduction);
        double error = Error(ours, Doubles(expected, ours.Shape));
        TestContext.Out.WriteLine($"InfoNce {negatives} {reduction} tau={temperature} [{dtype.TorchName()}] against the formula: {error:G3}");
        Assert.That(error, Is.LessThanOrEqualTo(Tolerance(dtype)));

        var inputs = negativeKeys is null ? new[] { query, positive } : [query, positive, negativeKeys];
        AssertParity($"InfoNce {negatives} {reduction} tau={temperature} against libtorch's cross entropy",
            x => Functional.InfoNce(x[0], x[1], x.Length > 2 ? x[2] : null, temperature, reduction),
            x => Libtorch(x[0], x[1], x.Length > 2 ? x[2] : null, temperature, reduction),
            inputs, inputs.Select(_ => true).ToArray(), dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(142);
        AssertGradCheck("InfoNce in-batch", x => Functional.InfoNce(x[0], x[1], temperature: 0.2), Randn(4, 3), Randn(4, 3));
        AssertGradCheck("InfoNce per-query negatives", x => Functional.InfoNce(x[0], x[1], x[2], 0.3), Randn(3, 3), Randn(3, 3), Randn(3, 2, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = DisposeScope.Begin();
        var (q, k, n) = (Randn(4, 3), Randn(4, 3), Randn(5, 3));
        using var loss = new InfoNceLoss(temperature: 0.2);
        Assert.That(Error(loss.Call(q, k, n), Libtorch(q, k, n, 0.2, Reduction.Mean)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Functional.InfoNce(Randn(4, 3), Randn(5, 3)));
        Assert.That(ex!.Message, Does.Contain("InfoNce").And.Contain("[4, 3]").And.Contain("[5, 3]"));
        ex = Assert.Throws<ArgumentException>(() => Functional.InfoNce(Randn(4, 3), Randn(4, 3), Randn(5, 2)));
        Assert.That(ex!.Message, Does.Contain("InfoNce").And.Contain("[5, 2]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.InfoNce(Randn(4, 3), Randn(4, 3), temperature: 0));
    }
}
