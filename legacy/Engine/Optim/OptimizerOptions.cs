namespace Engine.Optim;

/// <summary>
/// Hyperparameters of one parameter group. Each optimizer derives its own options (AdamOptions,
/// SgdOptions...) with the names of its paper; schedules only ever touch
/// <see cref="LearningRate"/> (and <see cref="Momentum"/> for one-cycle).
/// </summary>
public abstract class OptimizerOptions
{
    /// <summary>lr: the step size.</summary>
    public double LearningRate { get; set; } = 1e-3;

    /// <summary>The learning rate the group started with (initial_lr): schedules scale from it.</summary>
    public double InitialLearningRate { get; set; } = double.NaN;

    /// <summary>weight_decay: L2 penalty (coupled) or decoupled decay, as the optimizer defines it.</summary>
    public double WeightDecay { get; set; }

    /// <summary>Maximize the objective instead of minimizing it.</summary>
    public bool Maximize { get; set; }

    /// <summary>The momentum-like coefficient that one-cycle schedules cycle (momentum for SGD,
    /// beta1 for Adam); null if the optimizer has none.</summary>
    public virtual double? Momentum { get => null; set => throw new NotSupportedException($"{GetType().Name} has no momentum to cycle"); }

    public OptimizerOptions Clone() => (OptimizerOptions)MemberwiseClone();

    /// <summary>Throws if a hyperparameter is out of its domain (negative lr, beta outside [0, 1)...).</summary>
    public virtual void Validate()
    {
        if (!double.IsFinite(LearningRate) || LearningRate < 0)
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "learning rate must be finite and >= 0");
        if (!double.IsFinite(WeightDecay) || WeightDecay < 0)
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "weight decay must be finite and >= 0");
    }

    protected static void CheckBeta(double beta, string name)
    {
        if (!(beta >= 0 && beta < 1)) throw new ArgumentOutOfRangeException(name, beta, $"{name} must be in [0, 1)");
    }

    protected static void CheckNonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0) throw new ArgumentOutOfRangeException(name, value, $"{name} must be finite and >= 0");
    }

    /// <summary>Named numeric values for state dicts ("lr", "betas"...), as PyTorch names them.</summary>
    public virtual IEnumerable<(string Name, double Value)> Values()
    {
        yield return ("lr", LearningRate);
        yield return ("initial_lr", InitialLearningRate);
        yield return ("weight_decay", WeightDecay);
        yield return ("maximize", Maximize ? 1 : 0);
    }

    /// <summary>Sets a value read back from a state dict.</summary>
    public virtual void SetValue(string name, double value)
    {
        switch (name)
        {
            case "lr": LearningRate = value; break;
            case "initial_lr": InitialLearningRate = value; break;
            case "weight_decay": WeightDecay = value; break;
            case "maximize": Maximize = value != 0; break;
            default: throw new ArgumentException($"{GetType().Name} has no hyperparameter '{name}'");
        }
    }
}
