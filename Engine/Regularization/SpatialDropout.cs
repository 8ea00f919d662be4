namespace Engine.Regularization;

/// <summary>
/// Spatial dropout over sequences [N, C, L] (or unbatched [C, L]): whole channels are dropped,
/// y[n, c, :] = x[n, c, :]·m[n, c]/(1 − p), m ~ Bernoulli(1 − p) (Tompson et al., 2015). Adjacent
/// positions of a channel are strongly correlated, so element-wise dropout barely regularizes them.
/// Identity in eval. Equals TorchSharp's <c>nn.functional.dropout1d</c> under the same seed.
/// </summary>
public sealed class Dropout1d : nn.Module<Tensor, Tensor>
{
    public Dropout1d(double p = 0.5) : base(nameof(Dropout1d)) => P = Checks.DropProbability(nameof(Dropout1d), p);
    public double P { get; }
    public override Tensor forward(Tensor input) => Apply(input, P, training);
    public static Tensor Apply(Tensor input, double p, bool training = true) => Dropout.Feature(nameof(Dropout1d), input, p, training, 1);
}

/// <summary>
/// Spatial dropout over feature maps [N, C, H, W] (or unbatched [C, H, W]) — the seeds' "drop entire
/// feature maps" (Keras SpatialDropout2D): y[n, c] = x[n, c]·m[n, c]/(1 − p), m ~ Bernoulli(1 − p).
/// Identity in eval. Equals TorchSharp's <c>nn.functional.dropout2d</c> under the same seed.
/// </summary>
public sealed class Dropout2d : nn.Module<Tensor, Tensor>
{
    public Dropout2d(double p = 0.5) : base(nameof(Dropout2d)) => P = Checks.DropProbability(nameof(Dropout2d), p);
    public double P { get; }
    public override Tensor forward(Tensor input) => Apply(input, P, training);
    public static Tensor Apply(Tensor input, double p, bool training = true) => Dropout.Feature(nameof(Dropout2d), input, p, training, 2);
}

/// <summary>
/// Spatial dropout over volumes [N, C, D, H, W] (or unbatched [C, D, H, W]): whole channels dropped,
/// y[n, c] = x[n, c]·m[n, c]/(1 − p). Identity in eval. Equals TorchSharp's
/// <c>nn.functional.dropout3d</c> under the same seed.
/// </summary>
public sealed class Dropout3d : nn.Module<Tensor, Tensor>
{
    public Dropout3d(double p = 0.5) : base(nameof(Dropout3d)) => P = Checks.DropProbability(nameof(Dropout3d), p);
    public double P { get; }
    public override Tensor forward(Tensor input) => Apply(input, P, training);
    public static Tensor Apply(Tensor input, double p, bool training = true) => Dropout.Feature(nameof(Dropout3d), input, p, training, 3);
}
