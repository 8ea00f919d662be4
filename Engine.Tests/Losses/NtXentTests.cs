using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;
using static ContrastiveReference;

public class NtXentTests
{
    /// <summary>SimCLR's formula with loops over the 2N views: the positive of k is the other view of its example.</summary>
    static double[] Reference(Tensor view1, Tensor view2, double tau, Reduction reduction)
    {
        var z = Rows(view1).Concat(Rows(view2)).ToArray();
        int twoN = z.Length, n = twoN / 2;
        var losses = new double[twoN];
        for (int k = 0; k < twoN; k++)
        {
            int positive = (k + n) % twoN;
            var logits = new List<double>();
            int target = -1;
            for (int m = 0; m < twoN; m++)
            {
                if (m == k) continue;
                if (m == positive) target = logits.Count;
                logits.Add(Cosine(z[k], z[m]) / tau);
            }
            losses[k] = CrossEntropy(logits, target);
        }
        return Reduce(losses, reduction);
    }

    static Tensor TorchSharpNtXent(Tensor view1, Tensor view2, double tau, Reduction reduction)
    {
        long n = view1.shape[0];
        var z = cat([view1, view2], 0);
        var similarities = nn.functional.cosine_similarity(z.unsqueeze(1), z.unsqueeze(0), 2) / tau;
        var masked = similarities.masked_fill(eye(2 * n, dtype: ScalarType.Bool), double.NegativeInfinity);
        var labels = cat([arange(n, 2 * n, dtype: ScalarType.Int64), arange(0, n, dtype: ScalarType.Int64)]);
        return nn.functional.cross_entropy(masked, labels, reduction: reduction);
    }

    [Test, Combinatorial]
    public void Matches_the_formula_and_torchsharp_cross_entropy(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(0.1, 0.5)] double temperature,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(151);
        var view1 = Randn(5, 4);
        var view2 = view1 + Randn(5, 4) * 0.6;
        var ours = Loss.NtXent(view1.to(dtype), view2.to(dtype), temperature, reduction);
        // The reference sees the same (rounded) inputs, so the error is the arithmetic alone.
        var expected = Reference(view1.to(dtype), view2.to(dtype), temperature, reduction);
        double error = Error(ToDoubles(ours), expected);
        TestContext.Out.WriteLine($"NtXent {reduction} tau={temperature} [{dtype}] against the formula: {error:G3}");
        ErrorLog.Record("NtXent(formula)", dtype, error, 0);
        Assert.That(error, Is.LessThanOrEqualTo(Tolerance(dtype)));

        AssertParity($"NtXent {reduction} tau={temperature} against TorchSharp's cross entropy",
            x => Loss.NtXent(x[0], x[1], temperature, reduction), x => TorchSharpNtXent(x[0], x[1], temperature, reduction),
            [view1, view2], [true, true], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(152);
        AssertGradCheck("NtXent tau 0.5", x => Loss.NtXent(x[0], x[1]), Randn(3, 4), Randn(3, 4));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (a, b) = (Randn(4, 3), Randn(4, 3));
        using var loss = new NtXentLoss(temperature: 0.2);
        Assert.That(Error(loss.call(a, b), TorchSharpNtXent(a, b, 0.2, Reduction.Mean)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.NtXent(Randn(4, 3), Randn(3, 3)));
        Assert.That(ex!.Message, Does.Contain("NtXent").And.Contain("[4, 3]").And.Contain("[3, 3]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.NtXent(Randn(4), Randn(4)));
        Assert.That(ex!.Message, Does.Contain("NtXent").And.Contain("[4]"));
    }
}
