using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;
using static ContrastiveReference;

public class NtXentTests
{
    static readonly Op s_cosine = Op.Get("aten::cosine_similarity"), s_crossEntropy = Op.Get("aten::cross_entropy_loss");

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

    static Tensor Libtorch(Tensor view1, Tensor view2, double tau, Reduction reduction)
    {
        long n = view1.Size(0);
        var z = Torch.Cat([view1, view2], 0);
        var similarities = s_cosine.Call(z.Unsqueeze(1), z.Unsqueeze(0), 2L) / tau;
        var masked = similarities.MaskedFill(Torch.Eye(2 * n, dtype: ScalarType.Bool, device: Device.CPU), double.NegativeInfinity);
        var labels = Torch.Cat([Torch.Arange(n, 2 * n, device: Device.CPU), Torch.Arange(n, device: Device.CPU)]);
        return s_crossEntropy.Call(masked, labels, Arg.None, (long)reduction);
    }

    [Test, Combinatorial]
    public void Matches_the_formula_and_libtorch_cross_entropy(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(0.1, 0.5)] double temperature,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(151);
        var view1 = Randn(5, 4);
        var view2 = view1 + Randn(5, 4) * 0.6;
        using var ours = Functional.NtXent(view1.To(dtype), view2.To(dtype), temperature, reduction);
        // The reference sees the same (rounded) inputs, so the error is the arithmetic alone.
        var expected = Reference(view1.To(dtype), view2.To(dtype), temperature, reduction);
        double error = Error(ours, Doubles(expected, ours.Shape));
        TestContext.Out.WriteLine($"NtXent {reduction} tau={temperature} [{dtype.TorchName()}] against the formula: {error:G3}");
        Assert.That(error, Is.LessThanOrEqualTo(Tolerance(dtype)));

        AssertParity($"NtXent {reduction} tau={temperature} against libtorch's cross entropy",
            x => Functional.NtXent(x[0], x[1], temperature, reduction), x => Libtorch(x[0], x[1], temperature, reduction),
            [view1, view2], [true, true], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(152);
        AssertGradCheck("NtXent tau 0.5", x => Functional.NtXent(x[0], x[1]), Randn(3, 4), Randn(3, 4));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = DisposeScope.Begin();
        var (a, b) = (Randn(4, 3), Randn(4, 3));
        using var loss = new NtXentLoss(temperature: 0.2);
        Assert.That(Error(loss.Call(a, b), Libtorch(a, b, 0.2, Reduction.Mean)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Functional.NtXent(Randn(4, 3), Randn(3, 3)));
        Assert.That(ex!.Message, Does.Contain("NtXent").And.Contain("[4, 3]").And.Contain("[3, 3]"));
        ex = Assert.Throws<ArgumentException>(() => Functional.NtXent(Randn(4), Randn(4)));
        Assert.That(ex!.Message, Does.Contain("NtXent").And.Contain("[4]"));
    }
}
