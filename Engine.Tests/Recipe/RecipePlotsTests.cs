using Engine.Recipe;
using SkiaSharp;

namespace Engine.Tests.Recipe;

/// <summary>The recipe's PNGs: the batch grid has one cell per image (its size follows
/// ImageGrid's layout) and the LR curve decodes; bad input is refused by name.</summary>
public class RecipePlotsTests
{
    [Test]
    public void Batch_grid_and_lr_curve_are_written_as_pngs()
    {
        var dir = Path.Combine(Path.GetTempPath(), "engine-recipe-plots-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var scope = NewDisposeScope();
            var grid = Path.Combine(dir, "batch.png");
            RecipePlots.BatchGrid(grid, count: 10, scale: 1)(rand(12, 1, 8, 8), arange(12L));
            using (var bitmap = SKBitmap.Decode(grid))
            {
                var (w, h) = Engine.Plots.ImageGrid.Size(10, 8, 8, new Engine.Plots.ImageGridOptions { Columns = 8, Scale = 1, Captions = Enumerable.Repeat("0", 10).ToList() });
                Assert.That((bitmap.Width, bitmap.Height), Is.EqualTo((w, h)));
            }
            var curve = Path.Combine(dir, "lr.png");
            var lrs = Enumerable.Range(0, 50).Select(i => 1e-5 * Math.Pow(10, i / 10.0)).ToList();
            var losses = lrs.Select(lr => 2 - Math.Log10(lr) / 10 + (lr > 1 ? lr : 0)).ToList();
            RecipePlots.LrCurve(curve)(new LrFinderResult(lrs, losses, losses, false, 1e-2, 3e-3, 1e-2));
            using (var bitmap = SKBitmap.Decode(curve)) Assert.That(bitmap.Width, Is.GreaterThan(0));
            Assert.Throws<ArgumentException>(() => RecipePlots.BatchGrid(grid)(rand(4, 5), arange(4L)));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
