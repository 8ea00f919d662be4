namespace Engine.Regularization;

/// <summary>
/// Gaussian dropout (Srivastava et al., 2014, §10): multiplicative noise with the mean and variance
/// of inverted Bernoulli dropout, but continuous:
/// <code>
/// training:  y = x ⊙ ε,   ε ~ N(1, σ²),   σ² = p / (1 − p)
/// eval:      y = x
/// </code>
/// E[y] = x and Var[y] = x²·p/(1 − p), the same as x ⊙ m/(1 − p) with m ~ Bernoulli(1 − p)
/// (Keras GaussianDropout(rate = p)). Checked by statistics over many draws.
/// </summary>
public sealed class GaussianDropout : nn.Module<Tensor, Tensor>
{
    public GaussianDropout(double p = 0.5) : base(nameof(GaussianDropout)) => P = Checks.DropProbability(nameof(GaussianDropout), p);

    public double P { get; }

    public override Tensor forward(Tensor input) => Apply(input, P, training);

    public static Tensor Apply(Tensor input, double p, bool training = true)
    {
        Checks.DropProbability(nameof(GaussianDropout), p);
        Checks.Floating(nameof(GaussianDropout), input);
        if (!training || p == 0) return input.alias();
        using var scope = NewDisposeScope();
        var noise = randn_like(input).mul_(Math.Sqrt(p / (1 - p))).add_(1);
        return input.mul(noise).MoveToOuterDisposeScope();
    }
}
