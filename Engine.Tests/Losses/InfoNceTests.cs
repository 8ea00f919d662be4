using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;
using static ContrastiveReference;

public class InfoNceTests
{
    /// <summary>The formula with loops: ℓᵢ = −log(exp(cos(qᵢ, kᵢ)/τ) / Σ_candidates exp(cos(qᵢ, c)/τ)).</summary>
    static double[] Reference(Tensor query, Tensor positive, Tensor? negatives, double tau, Reduction reduction)
    {
        var q = Rows(query);
        var k = Rows(positive);
        var n = negatives is null ? null : Rows(negatives);
        int m = negatives is null ? 0 : (int)negatives.shape[^2];
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
                for (int j = 0; j < m; j++) logits.Add(Cosine(q[i], negatives!.dim() == 2 ? n[j] : n[i * m + j]) / tau);
                target = 0;
            }
            losses[i] = CrossEntropy(logits, target);
        }
        return Reduce(losses, reduction);
    }

    /// <summary>The same logits from TorchSharp's cosine_similarity, into TorchSharp's cross_entropy.</summary>
    static Tensor TorchSharpInfoNce(Tensor query, Tensor positive, Tensor? negatives, double tau, Reduction reduction)
    {
        long n = query.shape[0];
        Tensor logits, labels;
        if (negatives is null)
        {
            logits = nn.functional.cosine_similarity(query.unsqueeze(1), positive.unsqueeze(0), 2);
            labels = arange(0, n, dtype: ScalarType.Int64);
        }
        else
        {
            var pos = nn.functional.cosine_similarity(query, positive, 1).unsqueeze(1);
            var neg = negatives.dim() == 2
                ? nn.functional.cosine_similarity(query.unsqueeze(1), negatives.unsqueeze(0), 2)
                : nn.functional.cosine_similarity(query.unsqueeze(1), negatives, 2);
            logits = cat([pos, neg], 1);
            labels = zeros([n], ScalarType.Int64);
        }
        return nn.functional.cross_entropy(logits / tau, labels, reduction: reduction);
    }

    [Test, Combinatorial]
    public void Matches_the_formula_and_torchsharp_cross_entropy(
        [Values("in-batch", "shared", "per-query")] string negatives,
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(0.07, 0.5)] double temperature,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(141);
        var query = Randn(6, 4);
        var positive = query + Randn(6, 4) * 0.5;
        Tensor? negativeKeys = negatives switch { "shared" => Randn(5, 4), "per-query" => Randn(6, 3, 4), _ => null };

        var ours = Loss.InfoNce(query.to(dtype), positive.to(dtype), negativeKeys?.to(dtype), temperature, reduction);
        // The reference sees the same (rounded) inputs, so the error is the arithmetic alone.
        var expected = Reference(query.to(dtype), positive.to(dtype), negativeKeys?.to(dtype), temperature, reduction);
        double error = Error(ToDoubles(ours), expected);
        TestContext.Out.WriteLine($"InfoNce {negatives} {reduction} tau={temperature} [{dtype}] against the formula: {error:G3}");
        ErrorLog.Record("InfoNce(formula)", dtype, error, 0);
        Assert.That(error, Is.LessThanOrEqualTo(Tolerance(dtype)));

        var inputs = negativeKeys is null ? new[] { query, positive } : [query, positive, negativeKeys];
        AssertParity($"InfoNce {negatives} {reduction} tau={temperature} against TorchSharp's cross entropy",
            x => Loss.InfoNce(x[0], x[1], x.Length > 2 ? x[2] : null, temperature, reduction),
            x => TorchSharpInfoNce(x[0], x[1], x.Length > 2 ? x[2] : null, temperature, reduction),
            inputs, inputs.Select(_ => true).ToArray(), dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(142);
        AssertGradCheck("InfoNce in-batch", x => Loss.InfoNce(x[0], x[1], temperature: 0.2), Randn(4, 3), Randn(4, 3));
        AssertGradCheck("InfoNce per-query negatives", x => Loss.InfoNce(x[0], x[1], x[2], 0.3), Randn(3, 3), Randn(3, 3), Randn(3, 2, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (q, k, n) = (Randn(4, 3), Randn(4, 3), Randn(5, 3));
        using var loss = new InfoNceLoss(temperature: 0.2);
        Assert.That(Error(loss.call(q, k, n), TorchSharpInfoNce(q, k, n, 0.2, Reduction.Mean)), Is.LessThanOrEqualTo(Float64Tolerance));
        Assert.That(Error(loss.call(q, k, null), TorchSharpInfoNce(q, k, null, 0.2, Reduction.Mean)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.InfoNce(Randn(4, 3), Randn(5, 3)));
        Assert.That(ex!.Message, Does.Contain("InfoNce").And.Contain("[4, 3]").And.Contain("[5, 3]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.InfoNce(Randn(4, 3), Randn(4, 3), Randn(5, 2)));
        Assert.That(ex!.Message, Does.Contain("InfoNce").And.Contain("[5, 2]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.InfoNce(Randn(4, 3), Randn(4, 3), temperature: 0));
    }
}
