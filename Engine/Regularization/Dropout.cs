namespace Engine.Regularization;

/// <summary>
/// Dropout (Srivastava et al., 2014), "randomly turning off" a fraction p of the units during
/// training, inverted so that nothing changes at test time:
/// <code>
/// training:  y = x ⊙ m / (1 − p),   mᵢ ~ Bernoulli(1 − p) independently per element
/// eval:      y = x
/// </code>
/// E[y] = x, so the eval network sees activations of the same expected size.
/// The mask is drawn exactly as libtorch's CPU dropout draws it (an uninitialised tensor like x,
/// <c>bernoulli_(1 − p)</c>, then <c>div_(1 − p)</c>), so under the same seed it equals
/// TorchSharp's <c>nn.functional.dropout</c> element for element (checked in tests).
/// </summary>
public sealed class Dropout : nn.Module<Tensor, Tensor>
{
    double _p;

    /// <param name="p">Drop probability, in [0, 1).</param>
    public Dropout(double p = 0.5) : base(nameof(Dropout)) => _p = Checks.DropProbability(nameof(Dropout), p);

    /// <summary>Drop probability; may be changed between steps (e.g. a schedule), within [0, 1).</summary>
    public double P { get => _p; set => _p = Checks.DropProbability(nameof(Dropout), value); }

    public override Tensor forward(Tensor input) => Apply(input, _p, training);

    /// <summary>Functional form: inverted dropout of <paramref name="input"/> when <paramref name="training"/>, identity otherwise.</summary>
    public static Tensor Apply(Tensor input, double p, bool training = true)
    {
        Checks.DropProbability(nameof(Dropout), p);
        Checks.Floating(nameof(Dropout), input);
        if (!training || p == 0 || input.numel() == 0) return input.alias();
        using var scope = NewDisposeScope();
        var keep = empty_like(input).bernoulli_(1 - p).div_(1 - p);
        return input.mul(keep).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Channel-wise ("feature") dropout shared by Dropout1d/2d/3d: one Bernoulli(1 − p) draw per
    /// (sample, channel), broadcast over the spatial dims, scaled by 1/(1 − p). Unbatched input
    /// [C, ...] is treated as a batch of one, as PyTorch does.
    /// </summary>
    internal static Tensor Feature(string call, Tensor input, double p, bool training, int spatialDims)
    {
        Checks.DropProbability(call, p);
        Checks.SpatialRank(call, input, spatialDims);
        Checks.Floating(call, input);
        if (!training || p == 0 || input.numel() == 0) return input.alias();
        using var scope = NewDisposeScope();
        var keep = empty(FeatureNoiseShape(input, spatialDims), input.dtype, input.device).bernoulli_(1 - p).div_(1 - p);
        return input.mul(keep).MoveToOuterDisposeScope();
    }

    /// <summary>[N, C, 1, ..., 1] for batched input, [C, 1, ..., 1] for unbatched.</summary>
    internal static long[] FeatureNoiseShape(Tensor input, int spatialDims)
    {
        bool batched = input.dim() == spatialDims + 2;
        var shape = Enumerable.Repeat(1L, (int)input.dim()).ToArray();
        shape[0] = input.shape[0];
        if (batched) shape[1] = input.shape[1];
        return shape;
    }
}
