namespace Engine.Schedules;

/// <summary>
/// Constant learning rate: η_t = η₀, the group's lr (or a fixed <see cref="Value"/>). The seed's
/// advice for a new problem: turn learning-rate decay off, keep the lr constant, tune decay last.
/// Checked against PyTorch's <c>LambdaLR(lambda e: 1.0)</c>.
/// </summary>
public sealed class Constant : Schedule
{
    /// <param name="value">A fixed lr for every group; null keeps each group's own lr.</param>
    public Constant(double? value = null)
    {
        if (value is { } v) Require.NonNegative(v, nameof(Constant), nameof(value));
        Value = value;
    }

    public double? Value { get; }

    protected internal override double At(long step, double baseLr) => Value ?? baseLr;

    // The group's own lr times 1: in a chain it leaves the others' lr as is.
    protected internal override double Next(long step, double currentLr, double baseLr) => Value ?? currentLr;

    protected internal override bool Chainable => Value is null;

    public override string ToString() => Value is { } v ? $"Constant({F(v)})" : "Constant()";
}
