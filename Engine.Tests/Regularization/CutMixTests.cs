using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class CutMixTests
{
    /// <summary>Images whose every pixel is the sample's index + 1, so the source of each pixel is visible.</summary>
    static Tensor Labelled(long n, long h, long w) => arange(1, n + 1, ScalarType.Float32).view(n, 1, 1, 1).expand(n, 2, h, w).contiguous();

    [Test]
    public void CutMix_pastes_a_real_box_and_mixes_targets_by_its_area()
    {
        using var scope = NewDisposeScope();
        var cutMix = new CutMix(1.0, 4, new Generator(9));
        const long n = 8, h = 10, w = 12;
        var x = Labelled(n, h, w);
        var y = tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3 });
        int checkedBoxes = 0;
        for (int draw = 0; draw < 60; draw++)
        {
            using var inner = NewDisposeScope();
            var mixed = cutMix.Apply(x, y);
            var box = mixed.Box!.Value;
            var perm = mixed.Permutation.data<long>().ToArray();
            // Float64 reference: every pixel comes from x[perm[i]] inside the box and from x[i] outside.
            var expected = new float[n * 2 * h * w];
            for (int i = 0; i < n; i++)
                for (int c = 0; c < 2; c++)
                    for (int r = 0; r < h; r++)
                        for (int q = 0; q < w; q++)
                        {
                            bool inside = r >= box.Top && r < box.Bottom && q >= box.Left && q < box.Right;
                            expected[((i * 2 + c) * h + r) * w + q] = inside ? perm[i] + 1 : i + 1;
                        }
            Identical(mixed.Input, tensor(expected, [n, 2, h, w]), $"draw {draw} pixels");
            double lambda = 1 - (double)box.Area / (h * w);
            Assert.That(mixed.Lambda, Is.EqualTo(lambda), "λ' = 1 − area/(HW)");
            Assert.That(mixed.Lambda, Is.GreaterThanOrEqualTo(mixed.SampledLambda - 1e-12), "clipping and flooring only shrink the box");
            // The pasted fraction measured on the images equals 1 − λ' for samples mixed with another one.
            for (int i = 0; i < n; i++)
                if (perm[i] != i)
                {
                    double pasted = Fraction(mixed.Input[i].ne(i + 1));
                    Assert.That(pasted, Is.EqualTo(1 - lambda).Within(1e-12));
                }
            var ys = y.data<long>().ToArray();
            var target = mixed.Target.to(ScalarType.Float64);
            for (int i = 0; i < n; i++)
            {
                var t = new double[4];
                t[ys[i]] += lambda;
                t[ys[perm[i]]] += 1 - lambda;
                // One float32 product per entry: relative 6e-8.
                Close(target[i], tensor(t, ScalarType.Float64), 1e-6, $"draw {draw} target {i}");
            }
            if (box.Area > 0 && box.Area < h * w) checkedBoxes++;
        }
        Assert.That(checkedBoxes, Is.GreaterThan(30), "most draws paste a proper box");
    }

    [Test]
    public void CutMix_box_side_follows_the_sampled_lambda_when_not_clipped()
    {
        // Centre in the middle of a 100×100 image: no clipping, so sides are 2·⌊⌊100√(1−λ)⌋/2⌋.
        for (double lambda = 0.05; lambda < 1; lambda += 0.1)
        {
            long cut = (long)(100 * Math.Sqrt(1 - lambda));
            var box = new CutBox(50 - cut / 2, 50 - cut / 2, 50 + cut / 2, 50 + cut / 2);
            Assert.That(box.Bottom - box.Top, Is.EqualTo(2 * (cut / 2)));
            using var scope = NewDisposeScope();
            var mixed = CutMix.Paste(Labelled(2, 100, 100), tensor(new long[] { 0, 1 }), box, tensor(new long[] { 1, 0 }), 2);
            Assert.That(Math.Abs(mixed.Lambda - lambda), Is.LessThan(0.03), $"λ {lambda}: area-corrected λ' {mixed.Lambda} is within the rounding of the side");
        }
    }

    [Test]
    public void MixupCutMix_switches_with_the_given_probability()
    {
        using var scope = NewDisposeScope();
        var both = new MixupCutMix(3, probability: 0.8, switchProbability: 0.3, generator: new Generator(10));
        var x = randn(4, 1, 6, 6);
        var y = tensor(new long[] { 0, 1, 2, 0 });
        int cut = 0, mix = 0, none = 0;
        const int batches = 1000;
        for (int i = 0; i < batches; i++)
        {
            using var inner = NewDisposeScope();
            var m = both.Apply(x, y);
            if (m.Box is not null) cut++;
            else if (m.Lambda < 1) mix++;
            else none++;
        }
        MeanWithin(none / (double)batches, 0.2, Math.Sqrt(0.2 * 0.8), batches, "unmixed batches");
        MeanWithin(cut / (double)batches, 0.8 * 0.3, Math.Sqrt(0.24 * 0.76), batches, "CutMix batches");
        Assert.Throws<ArgumentException>(() => new CutMix(1.0, 3).Apply(randn(4, 6, 6), y), "CutMix needs N×C×H×W");
    }
}
