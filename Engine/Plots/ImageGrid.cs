using Engine.Checkpoints;
using SkiaSharp;

namespace Engine.Plots;

/// <summary>How <see cref="ImageGrid"/> lays out and scales a batch.</summary>
public sealed record ImageGridOptions
{
    /// <summary>Images per row; 0 picks ⌈√N⌉.</summary>
    public int Columns { get; init; }
    /// <summary>The values drawn as black and white; null maps the batch's own min to black and max to white.</summary>
    public (double Min, double Max)? Range { get; init; }
    /// <summary>Min-max per image instead of over the whole batch (ignored when <see cref="Range"/> is given).</summary>
    public bool PerImage { get; init; }
    /// <summary>Each image pixel becomes Scale × Scale screen pixels (nearest neighbour).</summary>
    public int Scale { get; init; } = 1;
    /// <summary>Background pixels around and between the images.</summary>
    public int Padding { get; init; } = 2;
    /// <summary>One caption per image, drawn under it; null for none.</summary>
    public IReadOnlyList<string>? Captions { get; init; }
    /// <summary>Caption text size in pixels.</summary>
    public float CaptionSize { get; init; } = 12;
}

/// <summary>
/// A batch of images, float [N, C, H, W] with C = 1 (grey) or 3 (RGB), drawn as one PNG grid: the
/// "look at what goes into the model" check (after loading, normalization and augmentation). Each
/// value v becomes the 8-bit level round(255 · clamp((v − min) / (max − min), 0, 1)), with min and
/// max the given range or the batch's (or each image's) extremes; a constant image under min-max
/// has max = min and is drawn black. Cells are Scale·W × Scale·H pixels in rows of
/// <see cref="ImageGridOptions.Columns"/>, separated by Padding pixels of dark grey, each with its
/// caption below when captions are given. Grid size: width = cols·(Scale·W + Padding) + Padding,
/// height = rows·(Scale·H + caption + Padding) + Padding.
/// </summary>
public static class ImageGrid
{
    static readonly SKColor Background = new(40, 40, 40);

    /// <summary>The grid as PNG bytes.</summary>
    /// <exception cref="ArgumentException">Not a floating [N, 1|3, H, W] tensor, a value is not finite,
    /// the range is empty, or captions do not match N.</exception>
    public static byte[] RenderPng(Tensor images, ImageGridOptions? options = null)
    {
        using var bitmap = Render(images, options ?? new ImageGridOptions());
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>Writes the grid to <paramref name="path"/> as a PNG, atomically (a temporary file
    /// renamed over the target), creating the folder if needed.</summary>
    public static void Save(string path, Tensor images, ImageGridOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = RenderPng(images, options);
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>The pixel size of the grid for a batch of <paramref name="n"/> images of
    /// <paramref name="height"/> × <paramref name="width"/>.</summary>
    public static (int Width, int Height) Size(long n, long height, long width, ImageGridOptions? options = null)
    {
        options ??= new ImageGridOptions();
        var (cols, rows) = Layout(n, options);
        int captionHeight = options.Captions is null ? 0 : (int)Math.Ceiling(options.CaptionSize * 1.4);
        return ((int)(cols * (options.Scale * width + options.Padding) + options.Padding),
                (int)(rows * (options.Scale * height + captionHeight + options.Padding) + options.Padding));
    }

    static (int Cols, int Rows) Layout(long n, ImageGridOptions options)
    {
        int cols = options.Columns > 0 ? (int)Math.Min(options.Columns, n) : (int)Math.Ceiling(Math.Sqrt(n));
        return (cols, (int)((n + cols - 1) / cols));
    }

    static SKBitmap Render(Tensor images, ImageGridOptions options)
    {
        const string call = $"{nameof(ImageGrid)}";
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || (images.shape[1] != 1 && images.shape[1] != 3) || images.shape[0] < 1 || images.shape[2] < 1 || images.shape[3] < 1)
            throw new ArgumentException($"{call}: images must be [N, C, H, W] with N ≥ 1 and C = 1 or 3; got [{string.Join(", ", images.shape)}]", nameof(images));
        if (!images.is_floating_point())
            throw new ArgumentException($"{call}: images must be a floating tensor; got {images.dtype}", nameof(images));
        if (options.Scale < 1 || options.Padding < 0 || options.Columns < 0 || !(options.CaptionSize > 0))
            throw new ArgumentException($"{call}: Scale = {options.Scale} must be ≥ 1, Padding = {options.Padding} and Columns = {options.Columns} ≥ 0, CaptionSize = {options.CaptionSize} > 0", nameof(options));
        long n = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        if (options.Captions is { } captions && captions.Count != n)
            throw new ArgumentException($"{call}: {captions.Count} captions for {n} images; give one per image", nameof(options));
        if (options.Range is { } given && !(double.IsFinite(given.Min) && double.IsFinite(given.Max) && given.Min < given.Max))
            throw new ArgumentException($"{call}: Range = {given} must be finite with Min < Max", nameof(options));
        var (width, height) = Size(n, h, w, options);
        if ((long)width * height > 100_000_000)
            throw new ArgumentException($"{call}: the grid would be {width} × {height} pixels; show fewer or smaller images", nameof(images));

        float[] values;
        using (var scope = NewDisposeScope())
        {
            var cpu = images.detach().to(ScalarType.Float32, CPU).contiguous();
            if (!cpu.isfinite().all().item<bool>())
                throw new ArgumentException($"{call}: images hold NaN or infinite values; they cannot be mapped to grey levels", nameof(images));
            values = cpu.data<float>().ToArray();
        }

        long plane = h * w, image = c * plane;
        // Black and white levels per image: the given range, the batch's extremes or each image's.
        var low = new double[n];
        var high = new double[n];
        for (long i = 0; i < n; i++)
        {
            if (options.Range is { } range) (low[i], high[i]) = range;
            else
            {
                var span = options.PerImage ? values.AsSpan((int)(i * image), (int)image) : values.AsSpan();
                float min = float.PositiveInfinity, max = float.NegativeInfinity;
                foreach (var v in span) { min = Math.Min(min, v); max = Math.Max(max, v); }
                (low[i], high[i]) = (min, max);
            }
        }

        var pixels = new byte[width * height * 4];
        for (int p = 0; p < pixels.Length; p += 4)
            (pixels[p], pixels[p + 1], pixels[p + 2], pixels[p + 3]) = (Background.Red, Background.Green, Background.Blue, 255);
        var (cols, _) = Layout(n, options);
        int captionHeight = options.Captions is null ? 0 : (int)Math.Ceiling(options.CaptionSize * 1.4);
        int cellW = (int)(options.Scale * w), cellH = (int)(options.Scale * h) + captionHeight;
        Span<byte> rgb = stackalloc byte[3];
        for (long i = 0; i < n; i++)
        {
            int left = (int)(i % cols) * (cellW + options.Padding) + options.Padding;
            int top = (int)(i / cols) * (cellH + options.Padding) + options.Padding;
            double scale = high[i] > low[i] ? 1.0 / (high[i] - low[i]) : 0;
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    for (int ch = 0; ch < 3; ch++)
                    {
                        float v = values[i * image + (c == 1 ? 0 : ch) * plane + y * w + x];
                        rgb[ch] = (byte)Math.Round(255 * Math.Clamp((v - low[i]) * scale, 0, 1));
                    }
                    for (int dy = 0; dy < options.Scale; dy++)
                        for (int dx = 0; dx < options.Scale; dx++)
                        {
                            int at = ((top + y * options.Scale + dy) * width + left + x * options.Scale + dx) * 4;
                            (pixels[at], pixels[at + 1], pixels[at + 2]) = (rgb[0], rgb[1], rgb[2]);
                        }
                }
        }

        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        try
        {
            System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
            if (options.Captions is { } texts)
            {
                using var canvas = new SKCanvas(bitmap);
                using var font = new SKFont(SKTypeface.Default, options.CaptionSize);
                using var paint = new SKPaint { Color = SKColors.White, IsAntialias = true };
                for (long i = 0; i < n; i++)
                {
                    float left = (int)(i % cols) * (cellW + options.Padding) + options.Padding;
                    float top = (int)(i / cols) * (cellH + options.Padding) + options.Padding;
                    float baseline = top + options.Scale * h + options.CaptionSize * 1.1f;
                    canvas.Save();
                    canvas.ClipRect(new SKRect(left, top + options.Scale * h, left + cellW, top + cellH));
                    canvas.DrawText(texts[(int)i], left + cellW / 2f, baseline, SKTextAlign.Center, font, paint);
                    canvas.Restore();
                }
            }
            return bitmap;
        }
        catch
        {
            bitmap.Dispose();
            throw;
        }
    }
}
