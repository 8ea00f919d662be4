namespace Engine.Regularization;

/// <summary>
/// Alpha dropout (Klambauer et al., 2017, "Self-Normalizing Neural Networks"): dropout for SELU
/// networks that keeps zero mean and unit variance. Dropped units are set to SELU's negative
/// saturation α′ = −λα, then an affine map restores the moments:
/// <code>
/// y = a·(x ⊙ m + α′(1 − m)) + b,   m ~ Bernoulli(1 − p)
/// a = ((1 − p)(1 + p·α′²))^(−1/2),   b = −a·α′·p
/// </code>
/// with α′ = 1.7580993408473766 in magnitude as libtorch (written there as y = x·(a·m) + a·α′·(p − (1 − m))).
/// Identity in eval. <see cref="FeatureWise"/> draws one m per (sample, channel), as
/// <c>feature_alpha_dropout</c>. Masks and outputs equal TorchSharp's <c>alpha_dropout</c> /
/// <c>feature_alpha_dropout</c> under the same seed.
/// </summary>
public sealed class AlphaDropout : nn.Module<Tensor, Tensor>
{
    /// <summary>|α′| = λ·α of SELU, the value libtorch uses.</summary>
    public const double SeluSaturation = 1.7580993408473766;

    public AlphaDropout(double p = 0.5, bool featureWise = false) : base(nameof(AlphaDropout))
    {
        P = Checks.DropProbability(nameof(AlphaDropout), p);
        FeatureWise = featureWise;
    }

    public double P { get; }
    /// <summary>Drop whole channels ([N, C, ...] input, one draw per sample and channel).</summary>
    public bool FeatureWise { get; }

    public override Tensor forward(Tensor input) => Apply(input, P, training, FeatureWise);

    public static Tensor Apply(Tensor input, double p, bool training = true, bool featureWise = false)
    {
        const string call = nameof(AlphaDropout);
        Checks.DropProbability(call, p);
        Checks.Floating(call, input);
        if (featureWise && input.dim() < 2)
            throw new ArgumentException($"{call}: feature-wise alpha dropout needs [N, C, ...] input, got {Checks.Shape(input)}", nameof(input));
        if (!training || p == 0 || input.numel() == 0) return input.alias();
        using var scope = NewDisposeScope();
        var noiseShape = featureWise
            ? input.shape.Select((s, d) => d < 2 ? s : 1L).ToArray()
            : input.shape;
        var m = empty(noiseShape, input.dtype, input.device).bernoulli_(1 - p);
        double alpha = SeluSaturation;
        double a = 1.0 / Math.Sqrt((alpha * alpha * p + 1) * (1 - p));
        // b = a·α′·(p − (1 − m)): the dropped units (m = 0) land on a·(−α′) + a·α′·p.
        var b = m.add(-1).mul_(alpha * a).add_(alpha * a * p);
        return input.mul(m.mul(a)).add_(b).MoveToOuterDisposeScope();
    }
}
