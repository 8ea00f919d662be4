namespace Engine.Init;

/// <summary>Which fan <see cref="Init.VarianceScaling_"/> divides the scale by (Keras' mode).</summary>
public enum VarianceScalingMode { FanIn, FanOut, FanAvg }

/// <summary>The distribution <see cref="Init.VarianceScaling_"/> draws from (Keras' distribution).</summary>
public enum VarianceScalingDistribution { TruncatedNormal, UntruncatedNormal, Uniform }

public static partial class Init
{
    /// <summary>
    /// std of N(0, 1) truncated to [−2, 2] (scipy.stats.truncnorm.std(a=−2, b=2)): Keras divides by
    /// it so that the truncated draw still has the variance asked for.
    /// </summary>
    public const double TruncatedNormalStdCorrection = 0.87962566103423978;

    /// <summary>
    /// Variance scaling with Keras' semantics (keras.initializers.VarianceScaling): the variance is
    /// s = scale / max(1, n), n = fan_in, fan_out or (fan_in + fan_out)/2 per <paramref name="mode"/>;
    /// then
    /// <list type="bullet">
    /// <item>TruncatedNormal: N(0, σ²) truncated to ±2σ with σ = √s / 0.87962566103423978, so the
    /// truncated draws have variance s;</item>
    /// <item>UntruncatedNormal: N(0, s);</item>
    /// <item>Uniform: U(−√(3s), √(3s)), also variance s.</item>
    /// </list>
    /// Fans are PyTorch's (<see cref="CalculateFanInAndFanOut"/>, weight [out, in, k...]), not Keras'
    /// kernel layout [k..., in, out]. scale 2 with FanIn is He, scale 1 with FanAvg is Glorot,
    /// scale 1 with FanIn is LeCun.
    /// </summary>
    public static Tensor VarianceScaling_(Tensor tensor, double scale = 1, VarianceScalingMode mode = VarianceScalingMode.FanIn,
        VarianceScalingDistribution distribution = VarianceScalingDistribution.TruncatedNormal, Generator? generator = null)
    {
        if (!(scale > 0) || double.IsInfinity(scale))
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "VarianceScaling_: scale must be positive and finite");
        var (fanIn, fanOut) = Fans(tensor, nameof(VarianceScaling_));
        double n = mode switch
        {
            VarianceScalingMode.FanIn => fanIn,
            VarianceScalingMode.FanOut => fanOut,
            VarianceScalingMode.FanAvg => (fanIn + fanOut) / 2.0,
            _ => throw new ArgumentException($"VarianceScaling_: unknown mode {mode}", nameof(mode)),
        };
        double s = scale / Math.Max(1.0, n);
        switch (distribution)
        {
            case VarianceScalingDistribution.TruncatedNormal:
                double sigma = Math.Sqrt(s) / TruncatedNormalStdCorrection;
                return TruncNormal_(tensor, 0, sigma, -2 * sigma, 2 * sigma, generator);
            case VarianceScalingDistribution.UntruncatedNormal:
                using (no_grad()) return tensor.normal_(0, Math.Sqrt(s), generator);
            case VarianceScalingDistribution.Uniform:
                double limit = Math.Sqrt(3.0 * s);
                using (no_grad()) return tensor.uniform_(-limit, limit, generator);
            default:
                throw new ArgumentException($"VarianceScaling_: unknown distribution {distribution}", nameof(distribution));
        }
    }
}
