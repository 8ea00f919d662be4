namespace Engine.Optim;

/// <summary>
/// The hyperparameters of the Adam family (Adam, AdamW, Adamax, NAdam, RAdam, LAMB): the decay
/// rates of the first and second moments and the ε that keeps the denominator away from zero.
/// One-cycle schedules cycle β₁ as the momentum.
/// </summary>
public abstract class MomentOptions : OptimizerOptions
{
    /// <summary>β₁: decay of the first moment (the mean of gradients).</summary>
    public double Beta1 { get; set; } = 0.9;
    /// <summary>β₂: decay of the second moment (the mean of squared gradients, or its stand-in).</summary>
    public double Beta2 { get; set; } = 0.999;
    /// <summary>ε: keeps the denominator away from zero.</summary>
    public double Eps { get; set; } = 1e-8;

    public override double? Momentum { get => Beta1; set => Beta1 = value ?? Beta1; }

    public override void Validate()
    {
        base.Validate();
        CheckBeta(Beta1, "beta1");
        CheckBeta(Beta2, "beta2");
        CheckNonNegative(Eps, "eps");
    }

    public override IEnumerable<(string Name, double Value)> Values() =>
        base.Values().Concat([("beta1", Beta1), ("beta2", Beta2), ("eps", Eps)]);

    public override void SetValue(string name, double value)
    {
        switch (name)
        {
            case "beta1": Beta1 = value; break;
            case "beta2": Beta2 = value; break;
            case "eps": Eps = value; break;
            default: base.SetValue(name, value); break;
        }
    }
}
