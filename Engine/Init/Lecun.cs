namespace Engine.Init;

public static partial class Init
{
    /// <summary>
    /// LeCun uniform (keras.initializers.LecunUniform; LeCun et al. 1998): U(−√(3 / fan_in), √(3 / fan_in)),
    /// variance 1/fan_in. <see cref="VarianceScaling_"/>(scale 1, FanIn, Uniform).
    /// </summary>
    public static Tensor LecunUniform_(Tensor tensor, Generator? generator = null) =>
        VarianceScaling_(tensor, 1, VarianceScalingMode.FanIn, VarianceScalingDistribution.Uniform, generator);

    /// <summary>
    /// LeCun normal (keras.initializers.LecunNormal), the initialization self-normalizing (SELU)
    /// networks need: variance 1/fan_in, drawn as Keras does from a normal truncated to ±2σ with
    /// σ = √(1/fan_in) / 0.87962566103423978 (<see cref="VarianceScaling_"/>(1, FanIn, TruncatedNormal)),
    /// or, with <paramref name="truncated"/> false, N(0, 1/fan_in) as PyTorch's SELU advice
    /// (kaiming_normal_ with nonlinearity "linear") draws it.
    /// </summary>
    public static Tensor LecunNormal_(Tensor tensor, bool truncated = true, Generator? generator = null) =>
        VarianceScaling_(tensor, 1, VarianceScalingMode.FanIn,
            truncated ? VarianceScalingDistribution.TruncatedNormal : VarianceScalingDistribution.UntruncatedNormal, generator);
}
