namespace Engine.Regularization;

/// <summary>
/// CutMix (Yun et al., 2019): paste a rectangle of another image of the batch and mix the targets by
/// the area actually pasted:
/// <code>
/// λ ~ Beta(α, α),  r = √(1 − λ),  cut = (⌊H·r⌋, ⌊W·r⌋),  centre (c_y, c_x) uniform over the pixels
/// box = [c_y − cut_h/2, c_y + cut_h/2) × [c_x − cut_w/2, c_x + cut_w/2), clipped to the image
/// x̃ = x outside the box, x[perm] inside
/// λ' = 1 − area(box) / (H·W)                (the correction for clipping and rounding)
/// ỹ = λ'·y + (1 − λ')·y[perm]
/// </code>
/// One box per batch, as in the paper's code. The seed's snippet stops at "actual implementation needs
/// masking"; this is that implementation. Input is N×C×H×W. Call it in the training step only.
/// </summary>
public sealed class CutMix
{
    public CutMix(double alpha = 1.0, long numClasses = 0, Generator? generator = null)
    {
        Mixing.Alpha(nameof(CutMix), alpha);
        Alpha = alpha;
        NumClasses = numClasses;
        Generator = generator;
    }

    public double Alpha { get; }
    public long NumClasses { get; }
    public Generator? Generator { get; }

    public MixedBatch Apply(Tensor input, Tensor target)
    {
        Checks.Nchw(nameof(CutMix), input);
        Mixing.Batch(nameof(CutMix), input, target);
        double lambda = Mixing.SampleLambda(Alpha, Generator);
        var box = SampleBox(input.shape[2], input.shape[3], lambda, Generator);
        var perm = Mixing.Permutation(input.shape[0], Generator, input.device);
        return Paste(input, target, box, perm, NumClasses) with { SampledLambda = lambda };
    }

    /// <summary>The box for λ: side ratio √(1 − λ), centre drawn uniformly, clipped to the image.</summary>
    public static CutBox SampleBox(long height, long width, double lambda, Generator? generator = null)
    {
        double r = Math.Sqrt(1 - lambda);
        long cutH = (long)(height * r), cutW = (long)(width * r);
        using var scope = NewDisposeScope();
        var u = rand([2], ScalarType.Float64, generator: generator).data<double>().ToArray();
        long cy = Math.Min((long)(u[0] * height), height - 1), cx = Math.Min((long)(u[1] * width), width - 1);
        return new CutBox(Math.Clamp(cy - cutH / 2, 0, height), Math.Clamp(cx - cutW / 2, 0, width),
                          Math.Clamp(cy + cutH / 2, 0, height), Math.Clamp(cx + cutW / 2, 0, width));
    }

    /// <summary>The deterministic part: paste <paramref name="box"/> from x[perm] and mix targets by the kept area.</summary>
    public static MixedBatch Paste(Tensor input, Tensor target, CutBox box, Tensor permutation, long numClasses = 0)
    {
        Checks.Nchw(nameof(CutMix), input);
        Mixing.Batch(nameof(CutMix), input, target);
        long h = input.shape[2], w = input.shape[3];
        if (box.Top < 0 || box.Left < 0 || box.Bottom > h || box.Right > w || box.Top > box.Bottom || box.Left > box.Right)
            throw new ArgumentException($"{nameof(CutMix)}: box {box} does not lie in the {h}×{w} image", nameof(box));
        using var scope = NewDisposeScope();
        var y = Mixing.Probabilities(nameof(CutMix), target, numClasses > 0 ? numClasses : target.dim() == 2 ? target.shape[1] : 0, input.dtype);
        var rows = arange(h, device: input.device);
        var cols = arange(w, device: input.device);
        var inside = rows.ge(box.Top).logical_and(rows.lt(box.Bottom)).view(h, 1)
            .logical_and(cols.ge(box.Left).logical_and(cols.lt(box.Right)).view(1, w));
        var x = where(inside, input.index_select(0, permutation), input);
        double lambda = 1 - (double)box.Area / (h * w);
        var t = y.mul(lambda).add_(y.index_select(0, permutation).mul(1 - lambda));
        return new MixedBatch(x.MoveToOuterDisposeScope(), t.MoveToOuterDisposeScope(), lambda, lambda, permutation, box);
    }
}
