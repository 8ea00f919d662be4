using Engine.Autograd;
using Engine.Losses;

namespace Engine.Tests.Losses;

/// <summary>KnowledgeDistillation.Loss against Hinton et al.'s formula in float64 (written here),
/// TorchSharp's kl_div and cross_entropy, and GradCheck.</summary>
public class KnowledgeDistillationTests
{
    static double Reference(double[,] s, double[,] t, long[] y, double T, double alpha)
    {
        int n = s.GetLength(0), c = s.GetLength(1);
        double[] Softmax(double[,] z, int i, double temp)
        {
            var e = Enumerable.Range(0, c).Select(j => z[i, j] / temp).ToArray();
            double max = e.Max();
            var ex = e.Select(v => Math.Exp(v - max)).ToArray();
            double sum = ex.Sum();
            return ex.Select(v => v / sum).ToArray();
        }
        double kl = 0, ce = 0;
        for (int i = 0; i < n; i++)
        {
            var p = Softmax(t, i, T);
            var q = Softmax(s, i, T);
            for (int j = 0; j < c; j++) kl += p[j] * Math.Log(p[j] / q[j]);
            ce -= Math.Log(Softmax(s, i, 1)[y[i]]);
        }
        return alpha * T * T * kl / n + (1 - alpha) * ce / n;
    }

    static double[,] ToArray(Tensor x)
    {
        var v = x.to(ScalarType.Float64).data<double>().ToArray();
        int n = (int)x.shape[0], c = (int)x.shape[1];
        var a = new double[n, c];
        for (int i = 0; i < n; i++) for (int j = 0; j < c; j++) a[i, j] = v[i * c + j];
        return a;
    }

    [TestCase(1.0, 0.5)]
    [TestCase(4.0, 0.9)]
    [TestCase(20.0, 1.0)]
    [TestCase(2.0, 0.0)]
    public void Loss_matches_hinton_formula_float64(double temperature, double alpha)
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        var s = randn(7, 5, dtype: ScalarType.Float64).mul(3);
        var t = randn(7, 5, dtype: ScalarType.Float64).mul(3);
        var y = randint(0, 5, [7]);
        var loss = KnowledgeDistillation.Loss(s, t, y, temperature, alpha).item<double>();
        var expected = Reference(ToArray(s), ToArray(t), y.data<long>().ToArray(), temperature, alpha);
        // Both in float64; log-softmax vs log of a ratio of sums differ by ~1e-16 relative per term.
        Assert.That(loss, Is.EqualTo(expected).Within(1e-12 * Math.Max(1, Math.Abs(expected))));
    }

    [Test]
    public void Loss_matches_torchsharp_kl_div_and_cross_entropy()
    {
        using var scope = NewDisposeScope();
        manual_seed(17);
        var s = randn(9, 4);
        var t = randn(9, 4);
        var y = randint(0, 4, [9]);
        const double T = 3, alpha = 0.7;
        var kl = nn.functional.kl_div(s.div(T).log_softmax(1), t.div(T).log_softmax(1), log_target: true, reduction: nn.Reduction.Sum).div(9);
        var expected = kl.mul(alpha * T * T).add(nn.functional.cross_entropy(s, y).mul(1 - alpha));
        // float32, same libtorch kernels but a different op order (pointwise KL summed by us): a few ulps.
        Assert.That(KnowledgeDistillation.Loss(s, t, y, T, alpha).item<float>(), Is.EqualTo(expected.item<float>()).Within(1e-5));
    }

    [Test]
    public void Gradient_passes_gradcheck_and_equals_hintons_closed_form()
    {
        using var scope = NewDisposeScope();
        manual_seed(19);
        var s = randn(4, 3, dtype: ScalarType.Float64).requires_grad_();
        var t = randn(4, 3, dtype: ScalarType.Float64);
        var y = randint(0, 3, [4]);
        const double T = 2.5, alpha = 0.6;
        GradCheck.Check(x => KnowledgeDistillation.Loss(x[0], t, y, T, alpha), [s]).ThrowIfFailed();
        KnowledgeDistillation.Loss(s, t, y, T, alpha).backward();
        // ∂L/∂z_s = α·T·(q_s − p_t)/N + (1 − α)·(softmax(z_s) − onehot(y))/N  (Hinton et al. §2)
        using var _ = no_grad();
        var expected = s.div(T).softmax(1).sub(t.div(T).softmax(1)).mul(alpha * T / 4)
            .add(s.softmax(1).sub(nn.functional.one_hot(y, 3).to(ScalarType.Float64)).mul((1 - alpha) / 4));
        Assert.That(Engine.Tests.Averaging.SwaFixture.MaxAbsDiff(s.grad!, expected), Is.LessThan(1e-14)); // float64 rounding
        Assert.That(t.grad, Is.Null, "the teacher does not learn");
    }

    [Test]
    public void Bad_input_is_refused_with_clear_errors()
    {
        using var scope = NewDisposeScope();
        var s = randn(3, 4);
        var y = tensor(new long[] { 0, 1, 2 });
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => KnowledgeDistillation.Loss(s, s, y, 0))!.Message, Does.Contain("temperature"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => KnowledgeDistillation.Loss(s, s, y, 2, 1.5))!.Message, Does.Contain("alpha"));
        Assert.That(Assert.Throws<ArgumentException>(() => KnowledgeDistillation.Loss(s, randn(3, 5), y))!.Message, Does.Contain("[3, 5]"));
        Assert.That(Assert.Throws<ArgumentException>(() => KnowledgeDistillation.Loss(s, s, tensor(new long[] { 0, 1 })))!.Message, Does.Contain("target"));
        Assert.That(Assert.Throws<ArgumentException>(() => KnowledgeDistillation.Loss(randn(3), randn(3), y))!.Message, Does.Contain("[N, C]"));
        Assert.That(Assert.Throws<ArgumentException>(() => KnowledgeDistillation.Loss(s, s, tensor(new long[] { 0, 4, 1 })))!.Message, Does.Contain("4"));
    }
}
