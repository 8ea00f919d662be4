namespace Engine.Regularization;

/// <summary>
/// Variational ("locked") dropout for sequences (Gal and Ghahramani, 2016; Merity et al., 2018's
/// LockedDropout): the same mask at every time step of a sequence, so a recurrent layer sees a
/// consistent subset of features instead of fresh noise per step (the seeds' Keras
/// <c>LSTM(dropout=…, recurrent_dropout=…)</c> uses such per-sequence masks):
/// <code>
/// training:  y[t, n, h] = x[t, n, h] · m[n, h] / (1 − p),   m ~ Bernoulli(1 − p), shared over t
/// eval:      y = x
/// </code>
/// Input is time-major [T, N, H] (TorchSharp's RNN default) or batch-first [N, T, H]. Under the same
/// seed it equals TorchSharp's <c>dropout1d</c> applied to the sequence with time as the last dim.
/// </summary>
public sealed class LockedDropout : nn.Module<Tensor, Tensor>
{
    public LockedDropout(double p = 0.5, bool batchFirst = false) : base(nameof(LockedDropout))
    {
        P = Checks.DropProbability(nameof(LockedDropout), p);
        BatchFirst = batchFirst;
    }

    public double P { get; }
    public bool BatchFirst { get; }

    public override Tensor forward(Tensor input) => Apply(input, P, BatchFirst, training);

    public static Tensor Apply(Tensor input, double p, bool batchFirst = false, bool training = true)
    {
        const string call = nameof(LockedDropout);
        Checks.DropProbability(call, p);
        Checks.Floating(call, input);
        if (input.dim() != 3)
            throw new ArgumentException($"{call}: input {Checks.Shape(input)} must be a sequence batch [T, N, H] ({(batchFirst ? "batch-first [N, T, H] here" : "time-major")})", nameof(input));
        if (!training || p == 0 || input.numel() == 0) return input.alias();
        using var scope = NewDisposeScope();
        var shape = batchFirst ? new[] { input.shape[0], 1, input.shape[2] } : new[] { 1, input.shape[1], input.shape[2] };
        var keep = empty(shape, input.dtype, input.device).bernoulli_(1 - p).div_(1 - p);
        return input.mul(keep).MoveToOuterDisposeScope();
    }
}
