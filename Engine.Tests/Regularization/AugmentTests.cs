using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class AugmentTests
{
    [Test]
    public void Flips_apply_per_sample_as_torchsharp_flip()
    {
        using var scope = NewDisposeScope();
        manual_seed(120);
        var x = randn(5, 2, 4, 6);
        var flags = tensor(new[] { true, false, true, true, false });
        var h = Augment.HorizontalFlip(x, flags);
        var v = Augment.VerticalFlip(x, flags);
        for (int i = 0; i < 5; i++)
        {
            bool f = flags[i].item<bool>();
            Identical(h[i], f ? x[i].flip(2) : x[i], $"horizontal {i}");
            Identical(v[i], f ? x[i].flip(1) : x[i], $"vertical {i}");
        }
    }

    [Test]
    public void Crop_with_padding_equals_pad_then_slice_per_sample()
    {
        using var scope = NewDisposeScope();
        manual_seed(121);
        const int p = 3;
        var x = randn(6, 2, 7, 5);
        var offsets = randint(0, 2 * p + 1, [6, 2], ScalarType.Int64);
        var ours = Augment.Crop(x, p, offsets);
        for (int i = 0; i < 6; i++)
        {
            long dy = offsets[i, 0].item<long>(), dx = offsets[i, 1].item<long>();
            var reference = nn.functional.pad(x[i], [p, p, p, p]).narrow(1, dy, 7).narrow(2, dx, 5);
            Identical(ours[i], reference, $"sample {i} offset ({dy}, {dx})");
        }
        Assert.Throws<ArgumentException>(() => Augment.Crop(x, p, full([6, 2], 7L, ScalarType.Int64)));
    }

    [Test]
    public void Brightness_contrast_and_erasing_follow_their_formulas()
    {
        using var scope = NewDisposeScope();
        manual_seed(122);
        var x = rand([3, 3, 4, 4], ScalarType.Float64);
        var f = tensor(new[] { 0.5, 1.0, 1.7 }, ScalarType.Float64);
        Close(Augment.Brightness(x, f), x * f.view(3, 1, 1, 1), 0, "brightness b·x (one product, exact)");
        var xs = x.data<double>().ToArray();
        var expected = new double[xs.Length];
        for (int n = 0; n < 3; n++)
        {
            double mean = 0;
            for (int k = 0; k < 16; k++) mean += 0.299 * xs[n * 48 + k] + 0.587 * xs[n * 48 + 16 + k] + 0.114 * xs[n * 48 + 32 + k];
            mean /= 16;
            double c = f[n].item<double>();
            for (int k = 0; k < 48; k++) expected[n * 48 + k] = c * xs[n * 48 + k] + (1 - c) * mean;
        }
        // float64 sums of 16 terms in another order: ~1e-16.
        Close(Augment.Contrast(x, f), tensor(expected, [3, 3, 4, 4], ScalarType.Float64), 1e-14, "contrast c·x + (1 − c)·mean(gray)");

        var boxes = tensor(new long[] { 1, 0, 3, 2, 0, 0, 0, 0, 0, 1, 4, 4 }, [3, 4]);
        var erased = Augment.Erase(x, boxes, -1).data<double>().ToArray();
        var b = boxes.data<long>().ToArray();
        for (int n = 0; n < 3; n++)
            for (int c = 0; c < 3; c++)
                for (int r = 0; r < 4; r++)
                    for (int q = 0; q < 4; q++)
                    {
                        int k = ((n * 3 + c) * 4 + r) * 4 + q;
                        bool inside = r >= b[n * 4] && r < b[n * 4 + 2] && q >= b[n * 4 + 1] && q < b[n * 4 + 3];
                        Assert.That(erased[k], Is.EqualTo(inside ? -1 : xs[k]));
                    }
    }

    [Test]
    public void Affine_rotates_shifts_and_keeps_identity_like_the_built_ins()
    {
        using var scope = NewDisposeScope();
        manual_seed(123);
        var x = randn([2, 1, 6, 6], ScalarType.Float64);
        var zero = zeros(2, ScalarType.Float64);
        var one = ones(2, ScalarType.Float64);
        // Identity: grid points land on pixel centres exactly (align_corners = false).
        Close(Augment.Affine(x, zero, one, zero, zero), x, 1e-12, "identity");
        // 90°: pixel centres map to pixel centres; cos(π/2) = 6e-17 leaves interpolation weights of that size.
        var rotated = Augment.Affine(x, full(2, Math.PI / 2, ScalarType.Float64), one, zero, zero);
        var a = rotated.allclose(x.rot90(1, (2, 3)), 0, 1e-12);
        Assert.That(a, Is.True, "θ = +π/2 equals rot90(k = 1, dims = (H, W)): counter-clockwise as displayed");
        // Shift by two pixels: t = 2 px · 2/W in normalized units; pixels shifted in are zero.
        var shifted = Augment.Affine(x, zero, one, full(2, 4.0 / 6, ScalarType.Float64), zero);
        var expected = zeros_like(x);
        expected[TensorIndex.Ellipsis, TensorIndex.Slice(0, 4)] = x[TensorIndex.Ellipsis, TensorIndex.Slice(2, 6)];
        Close(shifted, expected, 1e-12, "translation by 2 pixels");
    }
}
