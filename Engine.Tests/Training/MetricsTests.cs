using Engine.Training.Metrics;

namespace Engine.Tests.Training;

/// <summary>Each metric accumulated over ragged batches against a float64 loop over the same
/// arrays written in the test, and TorchSharp's built-in losses where one exists.</summary>
[TestFixture]
public class MetricsTests
{
    const int N = 103, C = 5;
    static readonly int[] Sizes = [32, 32, 32, 7];

    static (float[,] scores, long[] labels) Data(int seed)
    {
        var rng = new Random(seed);
        var s = new float[N, C];
        var l = new long[N];
        for (int i = 0; i < N; i++)
        {
            for (int c = 0; c < C; c++) s[i, c] = (float)(rng.NextDouble() * 2 - 1);
            l[i] = rng.Next(C);
            if (rng.NextDouble() < 0.4) s[i, l[i]] += 1f; // make it better than chance, imbalanced confusions
        }
        return (s, l);
    }

    static void Feed(Metric m, Tensor p, Tensor t)
    {
        long start = 0;
        foreach (var size in Sizes)
        {
            using var scope = NewDisposeScope();
            m.Update(p.narrow(0, start, size), t.narrow(0, start, size));
            start += size;
        }
    }

    static int ArgMax(float[,] s, int i)
    {
        int best = 0;
        for (int c = 1; c < C; c++) if (s[i, c] > s[i, best]) best = c;
        return best;
    }

    [Test]
    public void Accuracy_and_top_k_match_a_float64_loop()
    {
        var (s, l) = Data(1);
        using var p = tensor(s);
        using var t = tensor(l);
        using var acc = new Accuracy();
        using var top2 = new TopKAccuracy(2);
        Feed(acc, p, t);
        Feed(top2, p, t);
        double correct = 0, correct2 = 0;
        for (int i = 0; i < N; i++)
        {
            if (ArgMax(s, i) == l[i]) correct++;
            int above = 0; // the label is in the top 2 when at most one score beats it (no ties in random floats)
            for (int c = 0; c < C; c++) if (s[i, c] > s[i, l[i]]) above++;
            if (above < 2) correct2++;
        }
        // Both are ratios of integer counts: exact.
        Assert.That(acc.Compute()["accuracy"], Is.EqualTo(correct / N));
        Assert.That(top2.Compute()["top2_accuracy"], Is.EqualTo(correct2 / N));
        acc.Reset();
        Assert.That(acc.Compute()["accuracy"], Is.NaN);
    }

    [Test]
    public void Binary_accuracy_thresholds_the_prediction()
    {
        float[] p = [0.1f, 0.7f, 0.5f, 0.9f, 0.2f];
        float[] y = [0, 1, 1, 0, 0];
        using var acc = new Accuracy();
        acc.Update(tensor(p), tensor(y));
        double correct = 0;
        for (int i = 0; i < p.Length; i++) if ((p[i] > 0.5) == (y[i] > 0.5)) correct++;
        Assert.That(acc.Compute()["accuracy"], Is.EqualTo(correct / p.Length));
    }

    [Test]
    public void Confusion_matrix_and_precision_recall_f1_match_a_float64_loop()
    {
        var (s, l) = Data(2);
        using var p = tensor(s);
        using var t = tensor(l);
        using var pr = new PrecisionRecall(C);
        Feed(pr, p, t);
        var m = new long[C, C];
        for (int i = 0; i < N; i++) m[l[i], ArgMax(s, i)]++;
        Assert.That(pr.Matrix.Read(), Is.EqualTo(m));
        var got = pr.Compute();
        double mp = 0, mr = 0, mf = 0;
        for (int c = 0; c < C; c++)
        {
            double tp = m[c, c], fp = 0, fn = 0;
            for (int k = 0; k < C; k++) if (k != c) { fp += m[k, c]; fn += m[c, k]; }
            double prec = tp + fp == 0 ? 0 : tp / (tp + fp), rec = tp + fn == 0 ? 0 : tp / (tp + fn);
            double f1 = tp == 0 ? 0 : 2 * tp / (2 * tp + fp + fn); // F1 written as 2TP/(2TP+FP+FN)
            // Different but equivalent float64 formulas: a few ulps.
            Assert.That(got[$"precision_{c}"], Is.EqualTo(prec).Within(1e-15));
            Assert.That(got[$"recall_{c}"], Is.EqualTo(rec).Within(1e-15));
            Assert.That(got[$"f1_{c}"], Is.EqualTo(f1).Within(1e-15));
            mp += prec; mr += rec; mf += f1;
        }
        Assert.That(got["macro_precision"], Is.EqualTo(mp / C).Within(1e-15));
        Assert.That(got["macro_recall"], Is.EqualTo(mr / C).Within(1e-15));
        Assert.That(got["macro_f1"], Is.EqualTo(mf / C).Within(1e-15));
    }

    [Test]
    public void Regression_errors_match_a_float64_loop_and_torchsharp_losses()
    {
        var rng = new Random(3);
        var pv = new float[N, 2];
        var tv = new float[N, 2];
        for (int i = 0; i < N; i++) for (int j = 0; j < 2; j++) { pv[i, j] = (float)rng.NextDouble() * 4; tv[i, j] = (float)rng.NextDouble() * 4; }
        using var p = tensor(pv);
        using var t = tensor(tv);
        using var reg = new RegressionErrors();
        Feed(reg, p, t);
        double abs = 0, sq = 0;
        for (int i = 0; i < N; i++) for (int j = 0; j < 2; j++) { double d = (double)pv[i, j] - tv[i, j]; abs += Math.Abs(d); sq += d * d; }
        var got = reg.Compute();
        // float64 sums over 206 terms in a different order: relative 1e-14.
        Assert.That(got["mae"], Is.EqualTo(abs / (2 * N)).Within(1e-14).Percent);
        Assert.That(got["mse"], Is.EqualTo(sq / (2 * N)).Within(1e-14).Percent);
        Assert.That(got["rmse"], Is.EqualTo(Math.Sqrt(sq / (2 * N))).Within(1e-14).Percent);
        using var p64 = p.to(ScalarType.Float64);
        using var t64 = t.to(ScalarType.Float64);
        using var l1 = nn.functional.l1_loss(p64, t64);
        using var mse = nn.functional.mse_loss(p64, t64);
        Assert.That(got["mae"], Is.EqualTo(l1.item<double>()).Within(1e-12));
        Assert.That(got["mse"], Is.EqualTo(mse.item<double>()).Within(1e-12));
        Assert.Throws<ArgumentException>(() => reg.Update(p.narrow(1, 0, 1), t.select(1, 0)));
    }

    [Test]
    public void Mean_weights_batches_by_their_size()
    {
        using var m = new Mean("loss");
        double[] values = [0.5, 1.25, 3.0];
        double[] weights = [32, 32, 7];
        for (int i = 0; i < 3; i++) m.Update(tensor((float)values[i]), weights[i]);
        double expected = (0.5 * 32 + 1.25 * 32 + 3.0 * 7) / 71; // values exact in float32
        Assert.That(m.Compute()["loss"], Is.EqualTo(expected).Within(1e-15));
    }

    [Test]
    public void Metrics_leave_no_tensor_behind_and_free_their_accumulators()
    {
        var (s, l) = Data(4);
        using var p = tensor(s);
        using var t = tensor(l);
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var metrics = new Metric[] { new Accuracy(), new TopKAccuracy(3), new PrecisionRecall(C), new Mean("m") };
        for (int round = 0; round < 3; round++)
        {
            foreach (var m in metrics)
                if (m is Mean mean) { using var v = tensor(1f); mean.Update(v, 1); }
                else Feed(m, p, t);
            foreach (var m in metrics) m.Compute();
            foreach (var m in metrics) m.Reset();
        }
        foreach (var m in metrics) m.Dispose();
        Assert.That(DisposeScopeManager.Statistics.ThreadTotalLiveCount, Is.EqualTo(before));
    }
}
