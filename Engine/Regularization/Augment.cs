namespace Engine.Regularization;

/// <summary>
/// Batched image augmentations on N×C×H×W tensors, each sample with its own parameters, on the
/// tensor's device (no per-sample loop, no host copy of the images). These are the deterministic
/// halves; <see cref="ImageAugmentation"/> draws the parameters. Formulas (torchvision's conventions):
/// <code>
/// flip:        x'[n] = flip(x[n]) where flag[n]
/// crop:        x'[n] = pad(x[n], P)[:, dy_n : dy_n + H, dx_n : dx_n + W],   dy, dx ∈ [0, 2P]
/// brightness:  x'[n] = b_n · x[n]
/// contrast:    x'[n] = c_n · x[n] + (1 − c_n) · mean(gray(x[n]))       gray = 0.299R + 0.587G + 0.114B for C = 3
/// erasing:     x'[n, :, top:bottom, left:right] = v                  (Zhong et al., 2020)
/// affine:      x'[n](p) = bilinear x[n](A_n p + t_n),  A_n = R(θ_n)/s_n   (normalized coords, zero outside)
/// </code>
/// No clamping to [0, 1]: inputs may already be normalized.
/// </summary>
public static class Augment
{
    static Tensor PerSample(Tensor v, Tensor x) => v.to(x.dtype, x.device).view(-1, 1, 1, 1);

    static void Flags(string call, Tensor x, Tensor perSample)
    {
        Checks.Nchw(call, x);
        if (perSample.dim() < 1 || perSample.shape[0] != x.shape[0])
            throw new ArgumentException($"{call}: per-sample parameters {Checks.Shape(perSample)} must have the batch size {x.shape[0]} first", nameof(perSample));
    }

    public static Tensor HorizontalFlip(Tensor x, Tensor flags)
    {
        Flags(nameof(HorizontalFlip), x, flags);
        using var scope = NewDisposeScope();
        return where(flags.to(ScalarType.Bool, x.device).view(-1, 1, 1, 1), x.flip(3), x).MoveToOuterDisposeScope();
    }

    public static Tensor VerticalFlip(Tensor x, Tensor flags)
    {
        Flags(nameof(VerticalFlip), x, flags);
        using var scope = NewDisposeScope();
        return where(flags.to(ScalarType.Bool, x.device).view(-1, 1, 1, 1), x.flip(2), x).MoveToOuterDisposeScope();
    }

    /// <summary>Random crop with zero padding P; <paramref name="offsets"/> [N, 2] int64 (dy, dx), each in [0, 2P].</summary>
    public static Tensor Crop(Tensor x, int padding, Tensor offsets)
    {
        const string call = "Augment.Crop";
        Flags(call, x, offsets);
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), padding, $"{call}: padding must be non-negative");
        if (offsets.dim() != 2 || offsets.shape[1] != 2 || offsets.dtype != ScalarType.Int64)
            throw new ArgumentException($"{call}: offsets {Checks.Shape(offsets)} must be int64 [N, 2]", nameof(offsets));
        if (offsets.numel() > 0 && (offsets.min().item<long>() < 0 || offsets.max().item<long>() > 2 * padding))
            throw new ArgumentException($"{call}: offsets must lie in [0, {2 * padding}]", nameof(offsets));
        if (padding == 0) return x.alias();
        using var scope = NewDisposeScope();
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        var padded = nn.functional.pad(x, [padding, padding, padding, padding]);
        var o = offsets.to(x.device);
        var rows = o.select(1, 0).view(n, 1).add(arange(h, device: x.device)).view(n, 1, h, 1).expand(n, c, h, w + 2 * padding);
        var cols = o.select(1, 1).view(n, 1).add(arange(w, device: x.device)).view(n, 1, 1, w).expand(n, c, h, w);
        return padded.gather(2, rows).gather(3, cols).MoveToOuterDisposeScope();
    }

    public static Tensor Brightness(Tensor x, Tensor factors)
    {
        Flags(nameof(Brightness), x, factors);
        using var scope = NewDisposeScope();
        return x.mul(PerSample(factors, x)).MoveToOuterDisposeScope();
    }

    public static Tensor Contrast(Tensor x, Tensor factors)
    {
        Flags(nameof(Contrast), x, factors);
        using var scope = NewDisposeScope();
        Tensor gray = x.shape[1] == 3
            ? x.select(1, 0).mul(0.299).add_(x.select(1, 1).mul(0.587)).add_(x.select(1, 2).mul(0.114))
            : x;
        var mean = gray.flatten(1).mean([1L]).view(-1, 1, 1, 1);
        var f = PerSample(factors, x);
        return x.mul(f).add_(mean.mul(f.neg().add(1))).MoveToOuterDisposeScope();
    }

    /// <summary>Random erasing: <paramref name="boxes"/> [N, 4] int64 (top, left, bottom, right); an empty box leaves the sample.</summary>
    public static Tensor Erase(Tensor x, Tensor boxes, double value = 0)
    {
        const string call = "Augment.Erase";
        Flags(call, x, boxes);
        if (boxes.dim() != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"{call}: boxes {Checks.Shape(boxes)} must be [N, 4] (top, left, bottom, right)", nameof(boxes));
        using var scope = NewDisposeScope();
        long n = x.shape[0], h = x.shape[2], w = x.shape[3];
        var b = boxes.to(ScalarType.Int64, x.device);
        var rows = arange(h, device: x.device).view(1, h);
        var cols = arange(w, device: x.device).view(1, w);
        var inRows = rows.ge(b.select(1, 0).view(n, 1)).logical_and(rows.lt(b.select(1, 2).view(n, 1))).view(n, 1, h, 1);
        var inCols = cols.ge(b.select(1, 1).view(n, 1)).logical_and(cols.lt(b.select(1, 3).view(n, 1))).view(n, 1, 1, w);
        return x.masked_fill(inRows.logical_and(inCols), value).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Rotation by θ (radians; +π/2 equals <c>rot90(k = 1, dims = (H, W))</c>, counter-clockwise as displayed with row 0 at the top), zoom s (&gt; 1
    /// magnifies) and translation (t_x, t_y) in normalized units (2 = the full width/height), per
    /// sample, through <c>affine_grid</c> + bilinear <c>grid_sample</c> (align_corners = false, zeros outside).
    /// </summary>
    public static Tensor Affine(Tensor x, Tensor angles, Tensor scales, Tensor translateX, Tensor translateY)
    {
        const string call = "Augment.Affine";
        Flags(call, x, angles);
        Flags(call, x, scales);
        Flags(call, x, translateX);
        Flags(call, x, translateY);
        using var scope = NewDisposeScope();
        var a = angles.to(x.dtype, x.device);
        var s = scales.to(x.dtype, x.device);
        var cos = a.cos().div(s);
        var sin = a.sin().div(s);
        var theta = stack([cos, sin.neg(), translateX.to(x.dtype, x.device), sin, cos, translateY.to(x.dtype, x.device)], 1).view(-1, 2, 3);
        var grid = nn.functional.affine_grid(theta, x.shape, align_corners: false);
        return nn.functional.grid_sample(x, grid, align_corners: false).MoveToOuterDisposeScope();
    }
}
