namespace Engine.Regularization;

/// <summary>How <see cref="DropPath"/> draws: one decision per sample or one for the whole batch.</summary>
public enum DropPathMode
{
    /// <summary>Each sample's branch is dropped independently (timm's drop_path, torchvision "row").</summary>
    Row,
    /// <summary>The branch is dropped for the whole batch at once (Huang et al.'s original, torchvision "batch").</summary>
    Batch,
}

/// <summary>
/// Stochastic depth / DropPath (Huang et al., 2016, "Deep Networks with Stochastic Depth"; the
/// seeds' implicit regularizer). Applied to a residual branch f, x ← x + DropPath(f(x)):
/// <code>
/// training:  y = f(x) · b / (1 − p),   b ~ Bernoulli(1 − p) per sample (Row) or per batch (Batch)
/// eval:      y = f(x)
/// </code>
/// The 1/(1 − p) scaling keeps E[y] = f(x), so eval needs no rescaling (the paper instead scales
/// by the survival probability at test time; the two are equivalent in expectation). Rates that
/// rise linearly with depth, the paper's rule, come from <see cref="LinearRates"/>. The mask is
/// drawn like torchvision's <c>stochastic_depth</c> (<c>bernoulli_(1 − p)</c> on [N, 1, ..., 1] or
/// [1, ..., 1]); checked against a float64 reference of that formula and by statistics.
/// </summary>
public sealed class DropPath : nn.Module<Tensor, Tensor>
{
    public DropPath(double p = 0.1, DropPathMode mode = DropPathMode.Row) : base(nameof(DropPath))
    {
        P = Checks.DropProbability(nameof(DropPath), p);
        Mode = mode;
    }

    public double P { get; }
    public DropPathMode Mode { get; }

    public override Tensor forward(Tensor input) => Apply(input, P, Mode, training);

    public static Tensor Apply(Tensor input, double p, DropPathMode mode = DropPathMode.Row, bool training = true)
    {
        Checks.DropProbability(nameof(DropPath), p);
        Checks.Floating(nameof(DropPath), input);
        if (input.dim() < 1)
            throw new ArgumentException($"{nameof(DropPath)}: input needs a batch dimension, got a scalar", nameof(input));
        if (!training || p == 0 || input.numel() == 0) return input.alias();
        using var scope = NewDisposeScope();
        var shape = Enumerable.Repeat(1L, (int)input.dim()).ToArray();
        if (mode == DropPathMode.Row) shape[0] = input.shape[0];
        var keep = empty(shape, input.dtype, input.device).bernoulli_(1 - p).div_(1 - p);
        return input.mul(keep).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The linear decay rule of Huang et al.: block ℓ of L (ℓ = 1..L) is dropped with
    /// p_ℓ = (ℓ / L)·p_L, from nearly 0 at the input to <paramref name="finalRate"/> at the last block
    /// (survival 1 − ℓ/L·(1 − p_survival_L) in the paper's terms).
    /// </summary>
    public static double[] LinearRates(int depth, double finalRate)
    {
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), depth, $"{nameof(DropPath)}.{nameof(LinearRates)}: depth {depth} must be at least 1");
        Checks.DropProbability($"{nameof(DropPath)}.{nameof(LinearRates)}", finalRate, nameof(finalRate));
        return Enumerable.Range(1, depth).Select(l => finalRate * l / depth).ToArray();
    }
}
