namespace Engine.Schedules;

/// <summary>
/// Inverse square root decay (the seed's α_t = α₀ / √t, with t counted from 1; Hugging Face's
/// <c>get_inverse_sqrt_schedule</c>, fairseq's <c>inverse_sqrt</c>):
/// <code>
/// η_t = η₀ / √((t + timescale) / timescale)
/// </code>
/// With timescale 1 this is η₀ / √(t + 1): step 0 is the seed's epoch 1. The usual warmup form,
/// "linear warmup over W steps, then η₀·√(W / t)", is
/// <c>new InverseSqrt(timescale: W).WithWarmup(W)</c>. Checked against the formula in float64.
/// </summary>
public sealed class InverseSqrt : Schedule
{
    public InverseSqrt(long timescale = 1)
    {
        Require.AtLeast(timescale, 1, nameof(InverseSqrt), nameof(timescale));
        Timescale = timescale;
    }

    public long Timescale { get; }

    protected internal override double At(long step, double baseLr) => baseLr * (1.0 / Math.Sqrt((double)(step + Timescale) / Timescale));

    public override string ToString() => $"InverseSqrt(timescale: {Timescale})";
}
