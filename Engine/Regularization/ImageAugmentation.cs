namespace Engine.Regularization;

/// <summary>What <see cref="ImageAugmentation"/> does; every entry off (0) by default.</summary>
public sealed record AugmentationOptions
{
    /// <summary>Probability of flipping a sample left-right.</summary>
    public double HorizontalFlip { get; init; }
    /// <summary>Probability of flipping a sample upside down.</summary>
    public double VerticalFlip { get; init; }
    /// <summary>P: random crop of the original size out of the image zero-padded by P on each side.</summary>
    public int CropPadding { get; init; }
    /// <summary>δ: brightness factor b ~ U[1 − δ, 1 + δ].</summary>
    public double Brightness { get; init; }
    /// <summary>δ: contrast factor c ~ U[1 − δ, 1 + δ].</summary>
    public double Contrast { get; init; }
    /// <summary>Largest rotation in degrees: θ ~ U[−d, d].</summary>
    public double RotationDegrees { get; init; }
    /// <summary>z: zoom s ~ U[1 − z, 1 + z].</summary>
    public double Zoom { get; init; }
    /// <summary>Largest shift as a fraction of the width/height: t ~ U[−f, f].</summary>
    public double Translation { get; init; }
    /// <summary>Probability of random erasing a sample (Zhong et al., 2020).</summary>
    public double Erasing { get; init; }
    /// <summary>Erased area as a fraction of the image, U[min, max].</summary>
    public (double Min, double Max) ErasingScale { get; init; } = (0.02, 0.33);
    /// <summary>Aspect ratio h/w of the erased box, log-uniform on [min, max].</summary>
    public (double Min, double Max) ErasingRatio { get; init; } = (0.3, 3.3);
    public double ErasingValue { get; init; }
}

/// <summary>
/// The seeds' data augmentation ("Keras RandomFlip, RandomRotation, RandomZoom ... only during
/// training") on batched N×C×H×W tensors on any device: per sample, flips → crop with padding →
/// rotation/zoom/translation (one affine grid) → brightness → contrast → random erasing, with the
/// formulas of <see cref="Augment"/>. Parameters are drawn on the CPU from the module's own
/// generator (seeded in the constructor, so a run is reproducible and independent of the model's
/// random stream) and moved to the images' device. Identity in eval mode.
/// </summary>
public sealed class ImageAugmentation : nn.Module<Tensor, Tensor>, Engine.Data.IRandomTransform
{
    readonly Generator generator;

    public ImageAugmentation(AugmentationOptions options, ulong seed = 0) : base(nameof(ImageAugmentation))
    {
        const string call = nameof(ImageAugmentation);
        Checks.Probability(call, options.HorizontalFlip, nameof(options.HorizontalFlip));
        Checks.Probability(call, options.VerticalFlip, nameof(options.VerticalFlip));
        Checks.Probability(call, options.Erasing, nameof(options.Erasing));
        if (options.CropPadding < 0) throw new ArgumentOutOfRangeException(nameof(options), options.CropPadding, $"{call}: CropPadding = {options.CropPadding} must be non-negative");
        Checks.Fraction(call, options.Brightness, nameof(options.Brightness));
        Checks.Fraction(call, options.Contrast, nameof(options.Contrast));
        Checks.Fraction(call, options.Zoom, nameof(options.Zoom));
        Checks.NonNegative(call, options.RotationDegrees, nameof(options.RotationDegrees));
        Checks.NonNegative(call, options.Translation, nameof(options.Translation));
        var (smin, smax) = options.ErasingScale;
        var (rmin, rmax) = options.ErasingRatio;
        if (!(smin > 0 && smin <= smax && smax <= 1) || !(rmin > 0 && rmin <= rmax))
            throw new ArgumentOutOfRangeException(nameof(options), $"{call}: ErasingScale {options.ErasingScale} must satisfy 0 < min ≤ max ≤ 1 and ErasingRatio {options.ErasingRatio} 0 < min ≤ max");
        Options = options;
        generator = new Generator(seed);
    }

    public AugmentationOptions Options { get; }

    /// <summary>The generator the augmentation parameters are drawn from; a DataLoader saves its
    /// state with its position, so a resumed run repeats the same augmentations.</summary>
    public Generator Generator => generator;

    IReadOnlyList<Generator> Engine.Data.IRandomTransform.Generators => [generator];

    public override Tensor forward(Tensor input)
    {
        Checks.Nchw(nameof(ImageAugmentation), input);
        if (!training) return input.alias();
        var o = Options;
        long n = input.shape[0], h = input.shape[2], w = input.shape[3];
        using var scope = NewDisposeScope();
        var x = input;
        if (o.HorizontalFlip > 0) x = Augment.HorizontalFlip(x, Uniform(n).lt(o.HorizontalFlip));
        if (o.VerticalFlip > 0) x = Augment.VerticalFlip(x, Uniform(n).lt(o.VerticalFlip));
        if (o.CropPadding > 0)
            x = Augment.Crop(x, o.CropPadding, randint(0, 2 * o.CropPadding + 1, [n, 2], ScalarType.Int64, generator: generator));
        if (o.RotationDegrees > 0 || o.Zoom > 0 || o.Translation > 0)
        {
            var angles = Uniform(n).mul(2).sub(1).mul(o.RotationDegrees * Math.PI / 180);
            var scales = Uniform(n).mul(2).sub(1).mul(o.Zoom).add(1);
            // A shift of f·W pixels is 2f in normalized units.
            var tx = Uniform(n).mul(2).sub(1).mul(2 * o.Translation);
            var ty = Uniform(n).mul(2).sub(1).mul(2 * o.Translation);
            x = Augment.Affine(x, angles, scales, tx, ty);
        }
        if (o.Brightness > 0) x = Augment.Brightness(x, Uniform(n).mul(2).sub(1).mul(o.Brightness).add(1));
        if (o.Contrast > 0) x = Augment.Contrast(x, Uniform(n).mul(2).sub(1).mul(o.Contrast).add(1));
        if (o.Erasing > 0) x = Augment.Erase(x, ErasingBoxes(n, h, w), o.ErasingValue);
        return (ReferenceEquals(x, input) ? input.alias() : x).MoveToOuterDisposeScope();
    }

    Tensor Uniform(long n) => rand([n], ScalarType.Float64, generator: generator);

    /// <summary>Per sample: erase with probability p a box of area U[s_min, s_max]·HW and log-uniform aspect ratio, clipped to the image.</summary>
    Tensor ErasingBoxes(long n, long h, long w)
    {
        var o = Options;
        var u = rand([n, 5], ScalarType.Float64, generator: generator).data<double>().ToArray();
        var boxes = new long[n * 4];
        for (long i = 0; i < n; i++)
        {
            if (u[i * 5] >= o.Erasing) continue; // empty box
            double area = (o.ErasingScale.Min + u[i * 5 + 1] * (o.ErasingScale.Max - o.ErasingScale.Min)) * h * w;
            double logR = Math.Log(o.ErasingRatio.Min) + u[i * 5 + 2] * (Math.Log(o.ErasingRatio.Max) - Math.Log(o.ErasingRatio.Min));
            double ratio = Math.Exp(logR);
            long eh = Math.Clamp((long)Math.Round(Math.Sqrt(area * ratio)), 1, h);
            long ew = Math.Clamp((long)Math.Round(Math.Sqrt(area / ratio)), 1, w);
            long top = Math.Min((long)(u[i * 5 + 3] * (h - eh + 1)), h - eh);
            long left = Math.Min((long)(u[i * 5 + 4] * (w - ew + 1)), w - ew);
            boxes[i * 4] = top; boxes[i * 4 + 1] = left; boxes[i * 4 + 2] = top + eh; boxes[i * 4 + 3] = left + ew;
        }
        return tensor(boxes, [n, 4]);
    }
}
