using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class ImageAugmentationTests
{
    static readonly AugmentationOptions All = new()
    {
        HorizontalFlip = 0.5, VerticalFlip = 0.2, CropPadding = 2, Brightness = 0.2, Contrast = 0.2,
        RotationDegrees = 15, Zoom = 0.1, Translation = 0.1, Erasing = 0.5,
    };

    [Test]
    public void Augmentation_is_deterministic_under_a_seed_and_identity_in_eval()
    {
        using var scope = NewDisposeScope();
        manual_seed(130);
        var x = rand(16, 3, 12, 12);
        var a = new ImageAugmentation(All, seed: 5).forward(x);
        manual_seed(999); // the model's stream does not matter: the module has its own generator
        var b = new ImageAugmentation(All, seed: 5).forward(x);
        Identical(a, b, "same seed");
        var c = new ImageAugmentation(All, seed: 6).forward(x);
        Assert.That(c.ne(a).any().item<bool>(), Is.True, "another seed, another batch");
        var module = new ImageAugmentation(All, seed: 5);
        module.eval();
        Identical(module.forward(x), x, "eval");
    }

    [Test]
    public void Parameters_are_drawn_per_sample()
    {
        using var scope = NewDisposeScope();
        const int n = 4000;
        var x = arange(4, ScalarType.Float32).view(1, 1, 1, 4).expand(n, 1, 1, 4).contiguous();
        var y = new ImageAugmentation(new AugmentationOptions { HorizontalFlip = 0.3 }, seed: 1).forward(x);
        var flipped = y.select(3, 0).flatten().eq(3);
        MeanWithin(Fraction(flipped), 0.3, Math.Sqrt(0.3 * 0.7), n, "flipped samples");
        var crops = new ImageAugmentation(new AugmentationOptions { CropPadding = 2 }, seed: 2).forward(rand(64, 1, 8, 8));
        var zeroPatterns = crops.eq(0).flatten(1).unique(dim: 0).Item1.shape[0];
        Assert.That(zeroPatterns, Is.GreaterThan(10), "crop offsets differ between samples");
    }

    [Test]
    public void Augmentation_refuses_non_nchw_input_and_bad_options()
    {
        using var scope = NewDisposeScope();
        var module = new ImageAugmentation(All);
        var e = Assert.Throws<ArgumentException>(() => module.forward(ones(3, 8, 8)))!;
        Assert.That(e.Message, Does.Contain("ImageAugmentation").And.Contain("[3, 8, 8]").And.Contain("N×C×H×W"));
        module.eval();
        Assert.Throws<ArgumentException>(() => module.forward(ones(3, 8, 8)), "refused in eval too");
        Assert.Throws<ArgumentException>(() => Augment.Brightness(ones(2, 8), ones(2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageAugmentation(new AugmentationOptions { HorizontalFlip = 1.5 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageAugmentation(new AugmentationOptions { CropPadding = -1 }));
        var zoom = Assert.Throws<ArgumentOutOfRangeException>(() => new ImageAugmentation(new AugmentationOptions { Zoom = 1.0 }))!;
        Assert.That(zoom.Message, Does.Contain("ImageAugmentation").And.Contain("Zoom = 1"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageAugmentation(new AugmentationOptions { Erasing = 0.5, ErasingScale = (0.5, 0.1) }));
    }
}
