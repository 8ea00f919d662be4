namespace Engine.Tests.Init;

using Init = Engine.Init.Init;
using TorchInit = TorchSharp.torch.nn.init;

/// <summary>Init.TruncNormal_ against Python PyTorch's trunc_normal_ (init.json), TorchSharp's own
/// (which differs), and the truncated normal's moments and bounds over large samples.</summary>
public class TruncNormalTests
{
    static Tensor Uniform(InitFixture f, string what)
    {
        var e = System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestSetup.FixturePath("init.json"))).RootElement
            .GetProperty("cases").GetProperty(f.Name).GetProperty(what).GetProperty("data");
        var data = e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        return f.Dtype == ScalarType.Float64 ? tensor(data, f.Shape) : tensor(data.Select(v => (float)v).ToArray(), f.Shape);
    }

    /// <summary>
    /// Python's recipe, uniform_(2l − 1, 2u − 1) → erfinv_ → mul_(std·√2) → add_(mean) → clamp_(a, b),
    /// replayed here on Python's own uniform draws (init.json): our TruncNormal_ after the same seed
    /// equals it bit for bit, so it draws the same numbers between the same bounds and applies the
    /// same float operations. Against Python's final values it agrees to the rounding of erfinv,
    /// whose CPU kernel differs between PyTorch 1.13 and libtorch 2.10 (also measured here).
    /// </summary>
    [TestCase("trunc_normal_default")]
    [TestCase("trunc_normal_asym")]
    [TestCase("trunc_normal_f64")]
    public void Equals_pythons_recipe_on_pythons_draws_after_the_same_seed(string name)
    {
        using var scope = NewDisposeScope();
        var f = InitFixture.Load(name);
        double mean = f.Arg("mean", 0), std = f.Arg("std", 1), a = f.Arg("a", -2), b = f.Arg("b", 2);
        var u = Uniform(f, "uniform");
        var recipe = u.erfinv().mul_(std * Math.Sqrt(2.0)).add_(mean).clamp_(a, b);
        manual_seed(f.Seed);
        var t = Init.TruncNormal_(empty(f.Shape, f.Dtype), mean, std, a, b);
        Assert.That(t.bytes.ToArray(), Is.EqualTo(recipe.bytes.ToArray()), "same draws, same recipe");
        using var g = new Generator((ulong)f.Seed);
        var tg = Init.TruncNormal_(empty(f.Shape, f.Dtype), mean, std, a, b, g);
        Assert.That(tg.bytes.ToArray(), Is.EqualTo(recipe.bytes.ToArray()), "with a generator seeded alike");

        // erfinv: libtorch 2.10's against Python 1.13's on the same inputs, in units of the result's ulp.
        var erfinvDiff = u.erfinv().sub(Uniform(f, "erfinv")).abs().to(ScalarType.Float64);
        double eps = f.Dtype == ScalarType.Float64 ? Math.Pow(2, -52) : Math.Pow(2, -23);
        var maxAbs = Uniform(f, "erfinv").abs().max().to(ScalarType.Float64).item<double>();
        TestContext.Progress.WriteLine($"{name}: erfinv differs from PyTorch 1.13's in {erfinvDiff.gt(0).sum().item<long>()} of {u.numel()} values, by at most {erfinvDiff.max().item<double>() / eps / Math.Max(maxAbs, 1):g3} ulp of {maxAbs:g3}");
        // So the final values differ from Python's by a few ulps of std·√2·|erfinv| ≤ max(|a|, |b|) + |mean|.
        double scale = Math.Max(Math.Abs(a), Math.Abs(b)) + Math.Abs(mean);
        Assert.That(t.sub(f.Value).abs().max().to(ScalarType.Float64).item<double>(), Is.LessThanOrEqualTo(8 * eps * scale), "against Python's values");
    }

    [Test]
    public void TorchSharps_trunc_normal_swaps_mean_and_std_drops_sqrt2_and_ignores_its_generator()
    {
        using var scope = NewDisposeScope();
        var f = InitFixture.Load("trunc_normal_asym");
        manual_seed(f.Seed);
        var theirs = TorchInit.trunc_normal_(empty(f.Shape), 0.5, 2.0, -1.0, 3.0);
        Assert.That(theirs.bytes.ToArray(), Is.Not.EqualTo(f.Value.bytes.ToArray()), "not PyTorch's values");
        // What TorchSharp 0.107's native code computes on the same uniform draws: erfinv(v)·mean + std.
        var u = Uniform(f, "uniform");
        var swapped = u.erfinv().mul_(0.5).add_(2.0).clamp_(-1.0, 3.0);
        Assert.That(theirs.bytes.ToArray(), Is.EqualTo(swapped.bytes.ToArray()), "the swapped recipe");
        // Its generator argument is not used: it draws from the default generator.
        manual_seed(f.Seed);
        using var g = new Generator(4242);
        var withGenerator = TorchInit.trunc_normal_(empty(f.Shape), 0.5, 2.0, -1.0, 3.0, g);
        Assert.That(withGenerator.bytes.ToArray(), Is.EqualTo(theirs.bytes.ToArray()), "generator ignored");
    }

    [TestCase(0.0, 1.0, -2.0, 2.0)]
    [TestCase(0.5, 2.0, -1.0, 3.0)]
    [TestCase(-3.0, 0.5, -3.2, -1.0)]
    public void Draws_have_the_truncated_normals_moments_and_stay_in_bounds(double mean, double std, double a, double b)
    {
        using var scope = NewDisposeScope();
        manual_seed(123);
        const int n = 400_000;
        var t = Init.TruncNormal_(empty([n], ScalarType.Float64), mean, std, a, b);
        var (m, v, min, max) = Stats.Moments(t);
        var (em, ev) = Stats.TruncatedNormalMoments(mean, std, a, b);
        Assert.That(min, Is.GreaterThanOrEqualTo(a));
        Assert.That(max, Is.LessThanOrEqualTo(b));
        // The bounds are reached by the distribution, not by clamping a mass onto them: clamping only
        // fixes rounding, so (almost) no draw equals a bound exactly.
        Assert.That(t.eq(a).logical_or(t.eq(b)).sum().item<long>(), Is.LessThan(5));
        // 5 standard errors (chance of a false failure < 1e-6): SE(mean) = σ_t/√n; SE(var) ≤ σ_t²·√(2/n)
        // because a truncated normal's kurtosis is below the normal's 3.
        Assert.That(m, Is.EqualTo(em).Within(5 * Math.Sqrt(ev / n)), "mean");
        Assert.That(v, Is.EqualTo(ev).Within(5 * ev * Math.Sqrt(2.0 / n)), "variance");
        // Coverage near each bound: the share of draws in the 10% of the interval next to it.
        double w = (b - a) / 10, z = Stats.Simpson(x => Stats.Phi((x - mean) / std), a, b);
        foreach (var (lo, hi) in new[] { (a, a + w), (b - w, b) })
        {
            double p = Stats.Simpson(x => Stats.Phi((x - mean) / std), lo, hi) / z;
            double share = t.ge(lo).logical_and(t.le(hi)).sum().item<long>() / (double)n;
            Assert.That(share, Is.EqualTo(p).Within(5 * Math.Sqrt(p * (1 - p) / n) + 1e-6), $"[{lo}, {hi}]");
        }
    }

    [Test]
    public void Bad_arguments_throw_before_drawing()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Init.TruncNormal_(empty(3), a: 1, b: -1));
        Assert.That(ex!.Message, Does.Contain("TruncNormal_"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Init.TruncNormal_(empty(3), std: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Init.TruncNormal_(empty(3), std: double.NaN));
    }
}
