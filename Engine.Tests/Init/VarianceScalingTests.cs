using Engine.Init;

namespace Engine.Tests.Init;

using Init = Engine.Init.Init;
using TorchInit = TorchSharp.torch.nn.init;

/// <summary>Init.VarianceScaling_ (Keras semantics) and LeCun by statistics over 200,000 draws
/// against their formulas, and by the identities that tie them to PyTorch's initializers.</summary>
public class VarianceScalingTests
{
    const long Out = 400, In = 500;   // a Linear weight: fan_in 500, fan_out 400
    const int N = (int)(Out * In);

    [Test]
    public void Kerases_truncated_normal_constant_is_the_std_of_a_normal_truncated_at_two()
    {
        double z = Stats.Simpson(Stats.Phi, -2, 2);
        double std = Math.Sqrt(Stats.Simpson(x => x * x * Stats.Phi(x), -2, 2) / z);
        // Simpson with 20,000 intervals on a smooth integrand: error far below 1e-12.
        Assert.That(Init.TruncatedNormalStdCorrection, Is.EqualTo(std).Within(1e-12));
    }

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var mode in Enum.GetValues<VarianceScalingMode>())
            foreach (var dist in Enum.GetValues<VarianceScalingDistribution>())
                foreach (var scale in new[] { 1.0, 2.0, 0.1 })
                    yield return new TestCaseData(scale, mode, dist).SetName($"VarianceScaling scale {scale} {mode} {dist}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Draws_have_variance_scale_over_fan_and_the_distributions_bounds(double scale, VarianceScalingMode mode, VarianceScalingDistribution dist)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(2024);
        var w = Init.VarianceScaling_(empty([Out, In], ScalarType.Float64), scale, mode, dist, g);
        double n = mode switch { VarianceScalingMode.FanIn => In, VarianceScalingMode.FanOut => Out, _ => (In + Out) / 2.0 };
        double s = scale / n;
        var (mean, variance, min, max) = Stats.Moments(w);
        // 5 standard errors (false failure < 1e-6): SE(mean) = √(s/N); SE(var) = s·√((κ − 1)/N) with
        // kurtosis κ = 3 for the normal and less (1.8, ≈2.36) for the uniform and the truncated normal.
        Assert.That(mean, Is.EqualTo(0).Within(5 * Math.Sqrt(s / N)), "mean");
        Assert.That(variance, Is.EqualTo(s).Within(5 * s * Math.Sqrt(2.0 / N)), "variance");
        switch (dist)
        {
            case VarianceScalingDistribution.TruncatedNormal:
                double bound = 2 * Math.Sqrt(s) / Init.TruncatedNormalStdCorrection;
                Assert.That(Math.Max(-min, max), Is.LessThanOrEqualTo(bound), "truncated at ±2σ");
                // P(|x| > 0.99·bound) ≈ 0.3% of the truncated mass: hundreds of draws reach it.
                Assert.That(Math.Min(-min, max), Is.GreaterThan(0.99 * bound), "and reaches it");
                break;
            case VarianceScalingDistribution.Uniform:
                double limit = Math.Sqrt(3 * s);
                Assert.That(Math.Max(-min, max), Is.LessThanOrEqualTo(limit));
                Assert.That(Math.Min(-min, max), Is.GreaterThan(0.999 * limit));
                break;
            default:
                // Untruncated: 200,000 normal draws reach beyond 4σ (P ≈ 1 − (1 − 6.3e-5)^N ≈ 1).
                Assert.That(Math.Max(-min, max), Is.GreaterThan(4 * Math.Sqrt(s)));
                break;
        }
    }

    [Test]
    public void Truncated_variance_scaling_is_trunc_normal_at_two_sigma()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        var a = Init.VarianceScaling_(empty(30, 20), 2.0, VarianceScalingMode.FanAvg);
        double sigma = Math.Sqrt(2.0 / 25) / Init.TruncatedNormalStdCorrection;
        manual_seed(8);
        var b = Init.TruncNormal_(empty(30, 20), 0, sigma, -2 * sigma, 2 * sigma);
        Assert.That(a.bytes.ToArray(), Is.EqualTo(b.bytes.ToArray()));
    }

    [Test]
    public void Lecun_uniform_and_normal_have_variance_one_over_fan_in()
    {
        using var scope = NewDisposeScope();
        manual_seed(31);
        // A Conv2d weight [64, 32, 5, 5]: fan_in = 32·25 = 800, 51,200 draws.
        var shape = new long[] { 64, 32, 5, 5 };
        const int n = 64 * 32 * 25;
        double s = 1.0 / 800;
        foreach (var (name, w) in new[] {
            ("uniform", Init.LecunUniform_(empty(shape, ScalarType.Float64))),
            ("normal truncated", Init.LecunNormal_(empty(shape, ScalarType.Float64))),
            ("normal", Init.LecunNormal_(empty(shape, ScalarType.Float64), truncated: false)) })
        {
            var (_, v, min, max) = Stats.Moments(w);
            Assert.That(v, Is.EqualTo(s).Within(5 * s * Math.Sqrt(2.0 / n)), name);
            if (name == "uniform") Assert.That(Math.Max(-min, max), Is.LessThanOrEqualTo(Math.Sqrt(3 * s)));
            if (name == "normal truncated") Assert.That(Math.Max(-min, max), Is.LessThanOrEqualTo(2 * Math.Sqrt(s) / Init.TruncatedNormalStdCorrection));
        }
    }

    [Test]
    public void Untruncated_lecun_normal_is_pytorchs_selu_advice_kaiming_normal_linear()
    {
        using var scope = NewDisposeScope();
        // std = √(1/fan_in) here, 1/√fan_in there: equal for a fan that is a perfect square.
        manual_seed(12);
        var ours = Init.LecunNormal_(empty(10, 16, 2, 2), truncated: false);
        manual_seed(12);
        var theirs = TorchInit.kaiming_normal_(empty(10, 16, 2, 2), nonlinearity: TorchInit.NonlinearityType.Linear);
        Assert.That(ours.bytes.ToArray(), Is.EqualTo(theirs.bytes.ToArray()));
    }

    [Test]
    public void Bad_input_throws()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Init.VarianceScaling_(empty(7)));
        Assert.That(ex!.Message, Does.StartWith("VarianceScaling_:").And.Contain("fewer than 2 dimensions").And.Contain("[7]"));
        Assert.That(Assert.Throws<ArgumentException>(() => Init.LecunUniform_(empty(7)))!.Message, Does.Contain("[7]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Init.VarianceScaling_(empty(3, 3), scale: 0));
        Assert.Throws<ArgumentException>(() => Init.VarianceScaling_(empty(3, 3), mode: (VarianceScalingMode)9));
        Assert.Throws<ArgumentException>(() => Init.VarianceScaling_(empty(3, 3), distribution: (VarianceScalingDistribution)9));
    }
}
