using TorchSharp.Modules;

namespace Engine.Regularization;

/// <summary>
/// DropConnect (Wan et al., 2013): "drop weights instead of activations" (the seeds' table). A
/// Linear layer whose weight matrix is masked during training:
/// <code>
/// training:  y = x·(W ⊙ M / (1 − p))ᵀ + b,   M_ij ~ Bernoulli(1 − p), one mask per forward call
/// eval:      y = x·Wᵀ + b
/// </code>
/// The bias is not dropped. Inference uses the mean weights (the inverted-scaling form, as for
/// dropout) rather than the paper's Gaussian moment matching. The mask is drawn as libtorch's
/// dropout draws it, so under the same seed the output equals
/// <c>linear(x, dropout(W, p), b)</c> with TorchSharp's built-ins (checked in tests).
/// Wraps an existing <see cref="Linear"/>, so it applies to a layer of a user's model; the
/// parameters are the wrapped layer's ("linear.weight", "linear.bias").
/// </summary>
public sealed class DropConnect : nn.Module<Tensor, Tensor>
{
    readonly Linear linear;

    public DropConnect(Linear linear, double p = 0.5) : base(nameof(DropConnect))
    {
        this.linear = linear ?? throw new ArgumentNullException(nameof(linear));
        P = Checks.DropProbability(nameof(DropConnect), p);
        RegisterComponents();
    }

    /// <summary>A new Linear(inFeatures → outFeatures), initialised as TorchSharp's Linear, with DropConnect.</summary>
    public DropConnect(long inFeatures, long outFeatures, double p = 0.5, bool hasBias = true)
        : this(nn.Linear(inFeatures, outFeatures, hasBias), p) { }

    public double P { get; }
    public Linear Linear => linear;

    public override Tensor forward(Tensor input)
    {
        if (!training || P == 0) return linear.forward(input);
        using var scope = NewDisposeScope();
        var weight = Dropout.Apply(linear.weight!, P, true);
        return nn.functional.linear(input, weight, linear.bias).MoveToOuterDisposeScope();
    }
}
