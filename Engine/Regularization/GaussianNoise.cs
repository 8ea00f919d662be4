namespace Engine.Regularization;

/// <summary>
/// Gaussian noise injection (the seeds' "noise inject", an implicit regularizer; Keras GaussianNoise):
/// <code>
/// training:  y = x + σ·ε,   ε ~ N(0, 1) per element
/// eval:      y = x
/// </code>
/// Adding noise of variance σ² to the inputs of a linear least-squares model is equivalent in
/// expectation to an L2 penalty σ²‖w‖² (Bishop, 1995). Checked by statistics over many draws.
/// </summary>
public sealed class GaussianNoise : nn.Module<Tensor, Tensor>
{
    public GaussianNoise(double stddev) : base(nameof(GaussianNoise)) => Stddev = Checks.NonNegative(nameof(GaussianNoise), stddev, "stddev");

    public double Stddev { get; }

    public override Tensor forward(Tensor input) => Apply(input, Stddev, training);

    public static Tensor Apply(Tensor input, double stddev, bool training = true)
    {
        Checks.NonNegative(nameof(GaussianNoise), stddev, "stddev");
        Checks.Floating(nameof(GaussianNoise), input);
        if (!training || stddev == 0) return input.alias();
        using var scope = NewDisposeScope();
        return input.add(randn_like(input).mul_(stddev)).MoveToOuterDisposeScope();
    }
}
