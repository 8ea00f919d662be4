using Engine.Plots;
using SkiaSharp;

namespace Engine.Tests.Plots;

public class ImageGridTests
{
    static SKBitmap Decode(byte[] png) => SKBitmap.Decode(png) ?? throw new AssertionException("not a decodable PNG");

    static (byte R, byte G, byte B) Rgb(SKBitmap b, int x, int y)
    {
        var c = b.GetPixel(x, y);
        return (c.Red, c.Green, c.Blue);
    }

    [Test]
    public void Constant_grey_images_land_in_their_cells_with_the_given_range()
    {
        // Three 4×5 images of 0, 0.5 and 1 in range [0, 1], scale 3, padding 2, 2 columns:
        // cells are 15×12, the grid (2·17+2) × (2·14+2) = 36 × 30.
        using var images = stack([zeros(1, 4, 5), full(1, 4, 5, 0.5f), ones(1, 4, 5)]);
        var options = new ImageGridOptions { Columns = 2, Range = (0, 1), Scale = 3, Padding = 2 };
        using var bitmap = Decode(ImageGrid.RenderPng(images, options));
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((36, 30)));
        Assert.That(ImageGrid.Size(3, 4, 5, options), Is.EqualTo((36, 30)));
        Assert.That(Rgb(bitmap, 2 + 7, 2 + 6), Is.EqualTo(((byte)0, (byte)0, (byte)0)));
        Assert.That(Rgb(bitmap, 19 + 7, 2 + 6), Is.EqualTo(((byte)128, (byte)128, (byte)128)));   // round(127.5)
        Assert.That(Rgb(bitmap, 2 + 7, 16 + 6), Is.EqualTo(((byte)255, (byte)255, (byte)255)));
        Assert.That(Rgb(bitmap, 0, 0), Is.EqualTo(((byte)40, (byte)40, (byte)40)), "padding");
        Assert.That(Rgb(bitmap, 19 + 7, 16 + 6), Is.EqualTo(((byte)40, (byte)40, (byte)40)), "the empty fourth cell");
        // Cell edges: the first image spans x 2..16 and y 2..13 exactly.
        Assert.That(Rgb(bitmap, 16, 13), Is.EqualTo(((byte)0, (byte)0, (byte)0)));
        Assert.That(Rgb(bitmap, 17, 13), Is.EqualTo(((byte)40, (byte)40, (byte)40)));
    }

    [Test]
    public void Rgb_channels_map_to_red_green_blue_and_values_outside_the_range_clamp()
    {
        using var image = tensor(new float[] { 2f, -1f, 0.25f }).reshape(1, 3, 1, 1).expand(1, 3, 2, 2).contiguous();
        using var bitmap = Decode(ImageGrid.RenderPng(image, new ImageGridOptions { Range = (0, 1), Padding = 0 }));
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((2, 2)));
        Assert.That(Rgb(bitmap, 1, 1), Is.EqualTo(((byte)255, (byte)0, (byte)64)));
    }

    [Test]
    public void Min_max_spans_the_batch_or_each_image()
    {
        using var images = stack([full(1, 2, 2, 2f), full(1, 2, 2, 4f)]);
        using var batch = Decode(ImageGrid.RenderPng(images, new ImageGridOptions { Padding = 1 }));
        Assert.That(Rgb(batch, 1, 1), Is.EqualTo(((byte)0, (byte)0, (byte)0)));
        Assert.That(Rgb(batch, 4, 1), Is.EqualTo(((byte)255, (byte)255, (byte)255)));
        // Per image, each image is constant: max = min, drawn black.
        using var each = Decode(ImageGrid.RenderPng(images, new ImageGridOptions { Padding = 1, PerImage = true }));
        Assert.That(Rgb(each, 4, 1), Is.EqualTo(((byte)0, (byte)0, (byte)0)));
    }

    [Test]
    public void Captions_add_a_text_line_under_each_image()
    {
        using var images = zeros(2, 1, 28, 28);
        var options = new ImageGridOptions { Captions = ["7", "label 3"], Scale = 2, CaptionSize = 14 };
        using var bitmap = Decode(ImageGrid.RenderPng(images, options));
        var (w, h) = ImageGrid.Size(2, 28, 28, options);
        Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((w, h)));
        Assert.That(h, Is.EqualTo(2 + 56 + 20 + 2));
        int bright = 0;
        for (int y = 2 + 56; y < h - 2; y++)
            for (int x = 0; x < w; x++)
                if (bitmap.GetPixel(x, y).Red > 150) bright++;
        Assert.That(bright, Is.GreaterThan(10), "caption text drawn in white under the images");
    }

    [Test]
    public void Save_writes_the_png_atomically()
    {
        var folder = Directory.CreateTempSubdirectory("engine-grid-").FullName;
        try
        {
            var path = Path.Combine(folder, "batch.png");
            using var images = rand(6, 3, 8, 8, generator: new Generator(1));
            ImageGrid.Save(path, images, new ImageGridOptions { Columns = 3, Scale = 2 });
            using var bitmap = SKBitmap.Decode(path);
            Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo(ImageGrid.Size(6, 8, 8, new ImageGridOptions { Columns = 3, Scale = 2 })));
            Assert.That(Directory.GetFiles(folder), Has.Length.EqualTo(1));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Test]
    public void Bad_batches_are_rejected_with_the_shape_or_value()
    {
        using var twoChannels = zeros(1, 2, 4, 4);
        Assert.That(Assert.Throws<ArgumentException>(() => ImageGrid.RenderPng(twoChannels))!.Message, Does.Contain("[1, 2, 4, 4]"));
        using var threeDims = zeros(1, 4, 4);
        Assert.That(Assert.Throws<ArgumentException>(() => ImageGrid.RenderPng(threeDims))!.Message, Does.Contain("[N, C, H, W]"));
        using var integers = zeros(1, 1, 4, 4, ScalarType.Int64);
        Assert.That(Assert.Throws<ArgumentException>(() => ImageGrid.RenderPng(integers))!.Message, Does.Contain("Int64"));
        using var nan = full(1, 1, 2, 2, float.NaN);
        Assert.That(Assert.Throws<ArgumentException>(() => ImageGrid.RenderPng(nan))!.Message, Does.Contain("NaN"));
        using var ok = zeros(2, 1, 2, 2);
        Assert.That(Assert.Throws<ArgumentException>(() => ImageGrid.RenderPng(ok, new ImageGridOptions { Captions = ["one"] }))!.Message, Does.Contain("1 captions for 2 images"));
        Assert.That(Assert.Throws<ArgumentException>(() => ImageGrid.RenderPng(ok, new ImageGridOptions { Range = (1, 1) }))!.Message, Does.Contain("Min < Max"));
    }
}
