using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class GradientClippingTests
{
    static readonly long[][] Shapes = [[5, 3], [3], [4, 2, 2]];

    /// <summary>Two identical parameter sets whose gradients are scale·c (c fixed random), set by backward.</summary>
    static (List<Parameter> Ours, List<Parameter> Reference) Pair(ScalarType dtype, double scale, int seed)
    {
        manual_seed(seed);
        var weights = Shapes.Select(s => randn(s, dtype)).ToList();
        var upstream = Shapes.Select(s => randn(s, dtype) * scale).ToList();
        List<Parameter> Make()
        {
            var ps = weights.Select(w => new Parameter(w.clone())).ToList();
            var loss = ps.Select((p, i) => (p * upstream[i]).sum()).Aggregate((a, b) => a + b);
            loss.backward();
            return ps;
        }
        return (Make(), Make());
    }

    [Test, Combinatorial]
    public void Clip_grad_norm_matches_torchsharp(
        [Values(1.0, 2.0, 3.0, double.PositiveInfinity)] double p,
        [Values(0.5, 1e6)] double maxNorm,
        [Values(ScalarType.Float32, ScalarType.Float64)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var (ours, reference) = Pair(dtype, 3.0, 60);
        var total = GradientClipping.ClipGradNorm(ours, maxNorm, p);
        double referenceTotal = nn.utils.clip_grad_norm_(reference, maxNorm, p);
        // Same ops in libtorch's order: the norm and the clipped gradients are bit-identical.
        Assert.That(total.to(ScalarType.Float64).item<double>(), Is.EqualTo(referenceTotal), "total norm");
        for (int i = 0; i < ours.Count; i++) Identical(ours[i].grad!, reference[i].grad!, $"p={p} maxNorm={maxNorm} {dtype} gradient {i}");
        if (maxNorm < 1)
        {
            using var after = GradientClipping.ClipGradNorm(ours, 1e9, p);
            Assert.That(after.to(ScalarType.Float64).item<double>(), Is.EqualTo(maxNorm).Within(maxNorm * 1e-5), "clipped to the max norm (up to the 1e-6 guard)");
        }
    }

    [Test]
    public void Non_finite_norms_error_skip_or_propagate()
    {
        using var scope = NewDisposeScope();
        List<Parameter> WithInf()
        {
            var (ps, _) = Pair(ScalarType.Float32, 1.0, 61);
            ps[1].grad![0] = float.PositiveInfinity;
            return ps;
        }
        var a = WithInf();
        var before = a.Select(p => p.grad!.clone()).ToList();
        var e = Assert.Throws<InvalidOperationException>(() => GradientClipping.ClipGradNorm(a, 1.0, nonFinite: NonFiniteNorm.Error))!;
        Assert.That(e.Message, Does.Contain("ClipGradNorm").And.Contain("∞").Or.Contain("Infinity"));
        for (int i = 0; i < a.Count; i++) Identical(a[i].grad!, before[i], "Error leaves the gradients");

        var b = WithInf();
        var total = GradientClipping.ClipGradNorm(b, 1.0, nonFinite: NonFiniteNorm.Skip);
        Assert.That(double.IsPositiveInfinity(total.item<float>()), Is.True, "Skip returns the norm");
        for (int i = 0; i < b.Count; i++) Identical(b[i].grad!, before[i], "Skip leaves the gradients");

        var c = WithInf();
        var d = WithInf();
        GradientClipping.ClipGradNorm(c, 1.0);
        nn.utils.clip_grad_norm_(d, 1.0);
        for (int i = 0; i < c.Count; i++)
            Assert.That(c[i].grad!.isnan().eq(d[i].grad!.isnan()).all().item<bool>(), Is.True, "Propagate: NaN where TorchSharp's built-in gives NaN");
    }

    [Test]
    public void Clip_grad_value_matches_torchsharp()
    {
        using var scope = NewDisposeScope();
        var (ours, reference) = Pair(ScalarType.Float32, 2.0, 62);
        GradientClipping.ClipGradValue(ours, 0.7);
        nn.utils.clip_grad_value_(reference, 0.7);
        for (int i = 0; i < ours.Count; i++) Identical(ours[i].grad!, reference[i].grad!, $"gradient {i}");
        Assert.That(ours[0].grad!.abs().max().item<float>(), Is.EqualTo(0.7f));
    }

    [Test]
    public void Clipping_refuses_non_positive_limits()
    {
        var (ps, _) = Pair(ScalarType.Float32, 1.0, 63);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipGradNorm(ps, 0))!;
        Assert.That(e.Message, Does.Contain("ClipGradNorm").And.Contain("maxNorm"));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipGradNorm(ps, 1, normType: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipGradValue(ps, -0.5));
        Assert.That(GradientClipping.ClipGradNorm(new[] { new Parameter(ones(2)) }, 1.0).item<float>(), Is.EqualTo(0f), "no gradients: norm 0");
    }
}
