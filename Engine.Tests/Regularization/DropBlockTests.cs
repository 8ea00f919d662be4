using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class DropBlockTests
{
    /// <summary>γ of Ghiasi et al.'s eq. (1), written here from the paper for a non-square map.</summary>
    static double PaperGamma(double p, int b, int h, int w) => p / (b * b) * (h * w) / ((h - b + 1.0) * (w - b + 1.0));

    /// <summary>Algorithm 1 in float64 loops: zero the b×b block at each seed, rescale by count/count_ones.</summary>
    static double[] Reference(double[] x, double[] seeds, int n, int c, int h, int w, int b)
    {
        int sh = h - b + 1, sw = w - b + 1;
        var mask = Enumerable.Repeat(1.0, x.Length).ToArray();
        for (int m = 0; m < n * c; m++)
            for (int i = 0; i < sh; i++)
                for (int j = 0; j < sw; j++)
                    if (seeds[(m * sh + i) * sw + j] != 0)
                        for (int dy = 0; dy < b; dy++)
                            for (int dx = 0; dx < b; dx++)
                                mask[(m * h + i + dy) * w + j + dx] = 0;
        double ones = mask.Sum();
        double scale = ones == 0 ? 0 : mask.Length / ones;
        return x.Select((v, k) => v * mask[k] * scale).ToArray();
    }

    [Test, Combinatorial]
    public void DropBlock_matches_a_float64_reference_of_algorithm_1(
        [Values(1, 2, 3, 5)] int blockSize,
        [Values(ScalarType.Float32, ScalarType.Float64)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        const int n = 3, c = 4, h = 9, w = 7;
        const double p = 0.25;
        var x = randn([n, c, h, w], dtype);
        manual_seed(30);
        var ours = new DropBlock2d(p, blockSize).forward(x);
        // The reference draws the seeds with the same call in the same order, then follows the paper.
        manual_seed(30);
        var seeds = empty([n, c, h - blockSize + 1, w - blockSize + 1], dtype).bernoulli_(PaperGamma(p, blockSize, h, w));
        var expected = Reference(x.to(ScalarType.Float64).data<double>().ToArray(), seeds.to(ScalarType.Float64).data<double>().ToArray(), n, c, h, w, blockSize);
        // float64: only the rescale differs (one division vs ours reciprocal-then-multiply): ~1e-16.
        // float32: the mask and scale are computed in float32 (scale relative error ~6e-8).
        Close(ours, tensor(expected, [n, c, h, w], ScalarType.Float64), dtype == ScalarType.Float64 ? 1e-14 : 1e-6, $"DropBlock b={blockSize} {dtype}");
        Assert.That(seeds.to(ScalarType.Float64).sum().item<double>(), Is.GreaterThan(0), "the case drops something");
    }

    [Test]
    public void DropBlock_drop_rate_matches_the_exact_expectation_over_many_draws()
    {
        using var scope = NewDisposeScope();
        const int n = 64, c = 16, h = 12, w = 12, b = 3, draws = 6;
        const double p = 0.2;
        double gamma = PaperGamma(p, b, h, w);
        // P(pixel dropped) = 1 − (1 − γ)^k, k = seed positions whose block covers the pixel.
        double expected = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                int ky = Math.Min(y, h - b) - Math.Max(0, y - b + 1) + 1;
                int kx = Math.Min(x, w - b) - Math.Max(0, x - b + 1) + 1;
                expected += 1 - Math.Pow(1 - gamma, ky * kx);
            }
        expected /= h * w;

        manual_seed(31);
        var module = new DropBlock2d(p, b);
        var perMap = new List<double>();
        for (int d = 0; d < draws; d++)
        {
            using var inner = NewDisposeScope();
            perMap.AddRange(module.forward(ones(n, c, h, w)).eq(0).flatten(2).to(ScalarType.Float64).mean([2L]).flatten().data<double>().ToArray());
        }
        // Maps are independent (separate seeds per sample and channel), so their drop fractions are
        // i.i.d.; 5 standard errors from the sample sd (n = 6144 maps).
        double observed = perMap.Average();
        double sd = Math.Sqrt(perMap.Select(v => (v - observed) * (v - observed)).Sum() / (perMap.Count - 1));
        MeanWithin(observed, expected, sd, perMap.Count, $"DropBlock drop rate (paper's no-overlap target p = {p})");
        Assert.That(Math.Abs(observed - p), Is.GreaterThan(5 * sd / Math.Sqrt(perMap.Count)), "the test tells the exact rate from the naive p");
        Assert.That(expected, Is.LessThan(p), "overlaps make the exact rate lower than p");
    }

    [Test]
    public void DropBlock_preserves_the_total_and_drops_contiguous_blocks()
    {
        using var scope = NewDisposeScope();
        manual_seed(32);
        var y = DropBlock2d.Apply(ones(2, 3, 10, 10), 0.3, 4);
        // count(M)/count_ones(M) rescaling: mean(y) = 1 for x = 1, up to float32 rounding of one sum.
        Assert.That(Math.Abs(Mean(y) - 1), Is.LessThan(1e-6));
        // Every dropped pixel lies in a fully dropped 4×4 window (the block it came from).
        var dropped = y.eq(0).to(ScalarType.Float32);
        var fullWindows = nn.functional.avg_pool2d(dropped, 4, 1).eq(1).to(ScalarType.Float32);
        var coveredByFull = nn.functional.max_pool2d(nn.functional.pad(fullWindows, [3, 3, 3, 3]), 4, 1);
        Assert.That(dropped.le(coveredByFull).all().item<bool>(), Is.True);
    }

    [Test]
    public void DropBlock_refuses_blocks_larger_than_the_map_and_non_nchw_input()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<ArgumentException>(() => new DropBlock2d(0.1, 8).forward(ones(2, 3, 7, 9)))!;
        Assert.That(e.Message, Does.Contain("DropBlock2d").And.Contain("8").And.Contain("7×9"));
        Assert.Throws<ArgumentException>(() => DropBlock2d.Apply(ones(3, 7, 7), 0.1, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DropBlock2d(0.1, 0));
        var module = new DropBlock2d(0.5, 3);
        module.eval();
        var x = randn(2, 2, 5, 5);
        Identical(module.forward(x), x, "eval");
    }
}
