using Engine.Regularization;

namespace Engine.Tests.Regularization;

public class AdaptiveGradientClippingTests
{
    /// <summary>Eq. 3 of Brock et al. in float64 loops over units (rows; the whole tensor for rank ≤ 1).</summary>
    static double[] Reference(double[] w, double[] g, long[] shape, double lambda, double eps)
    {
        int units = shape.Length <= 1 ? 1 : (int)shape[0];
        int per = w.Length / units;
        var result = (double[])g.Clone();
        for (int u = 0; u < units; u++)
        {
            double wn = 0, gn = 0;
            for (int k = 0; k < per; k++) { wn += w[u * per + k] * w[u * per + k]; gn += g[u * per + k] * g[u * per + k]; }
            wn = Math.Max(Math.Sqrt(wn), eps);
            gn = Math.Sqrt(gn);
            if (gn / wn > lambda)
                for (int k = 0; k < per; k++) result[u * per + k] = lambda * wn / gn * g[u * per + k];
        }
        return result;
    }

    [Test, Combinatorial]
    public void Agc_matches_a_float64_reference_of_the_paper([Values(ScalarType.Float32, ScalarType.Float64)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        const double lambda = 0.05, eps = 1e-3;
        manual_seed(70);
        long[][] shapes = [[6, 4], [6], [3, 2, 3, 3]];
        // Rows of varied size, one all-zero weight row (ε floor) and one zero-gradient row.
        var weights = shapes.Select(s => randn(s, dtype) * rand(s[0], dtype).add(0.1).view(s.Length == 1 ? [s[0]] : [s[0], .. Enumerable.Repeat(1L, s.Length - 1)])).ToList();
        weights[0][2].zero_();
        var grads = shapes.Select(s => randn(s, dtype) * 0.05).ToList();
        grads[0][4].zero_();
        var ps = weights.Select(w => new Parameter(w.clone())).ToList();
        ps.Select((p, i) => (p * grads[i]).sum()).Aggregate((a, b) => a + b).backward();

        AdaptiveGradientClipping.Clip(ps, lambda, eps);

        int clippedUnits = 0;
        for (int i = 0; i < ps.Count; i++)
        {
            var w = weights[i].to(ScalarType.Float64).data<double>().ToArray();
            var g = grads[i].to(ScalarType.Float64).data<double>().ToArray();
            var expected = tensor(Reference(w, g, shapes[i], lambda, eps), shapes[i], ScalarType.Float64);
            // float64: norms are sums of ≤ 18 squares (a few ulps); float32: the same in float32 (~1e-7 relative).
            RegularizationAssert.Close(ps[i].grad!, expected, dtype == ScalarType.Float64 ? 1e-14 : 1e-6, $"AGC param {i} {dtype}");
            clippedUnits += (int)ps[i].grad!.to(ScalarType.Float64).sub(grads[i].to(ScalarType.Float64)).abs().flatten(shapes[i].Length > 1 ? 1 : 0).sum(shapes[i].Length > 1 ? [1L] : [0L]).gt(0).sum().item<long>();
        }
        Assert.That(clippedUnits, Is.GreaterThan(0), "some units are clipped");
        Assert.Throws<ArgumentOutOfRangeException>(() => AdaptiveGradientClipping.Clip(ps, 0));
    }
}
