using System.Globalization;

namespace Engine.Optim;

/// <summary>
/// Hyperparameters of one parameter group. Each optimizer derives its own options (AdamOptions,
/// SgdOptions...) with the names of its paper; schedules only ever touch the learning rate (and
/// momentum or β₁ for one-cycle). Derives from TorchSharp's <c>OptimizerOptions</c>, which holds
/// <c>LearningRate</c> and <c>InitialLearningRate</c>, so TorchSharp's schedulers and
/// <c>save_state_dict</c> work with Engine's optimizers.
/// </summary>
public abstract class OptimizerOptions : TorchSharp.Modules.OptimizerOptions
{
    /// <summary>lr as a plain double (TorchSharp stores it nullable).</summary>
    public double Lr
    {
        get => LearningRate ?? throw new InvalidOperationException($"{GetType().Name}: no learning rate set");
        set => LearningRate = value;
    }

    /// <summary>weight_decay: L2 penalty (coupled) or decoupled decay, as the optimizer defines it.</summary>
    public double WeightDecay { get; set; }

    /// <summary>Maximize the objective instead of minimizing it.</summary>
    public bool Maximize { get; set; }

    /// <summary>The momentum that one-cycle schedules cycle (IMomentum); null if the optimizer has none.</summary>
    public virtual double? Momentum
    {
        get => null;
        set => throw new NotSupportedException($"{GetType().Name} has no momentum to cycle");
    }

    /// <summary>(β₁, β₂) for the Adam family (IBetas); null if the optimizer has none.</summary>
    public virtual (double, double)? Betas
    {
        get => null;
        set => throw new NotSupportedException($"{GetType().Name} has no betas to cycle");
    }

    public OptimizerOptions Clone() => (OptimizerOptions)MemberwiseClone();

    /// <summary>Throws if a hyperparameter is out of its domain (negative lr, beta outside [0, 1)...).</summary>
    public virtual void Validate()
    {
        if (LearningRate is not double lr || !double.IsFinite(lr) || lr < 0)
            throw new ArgumentOutOfRangeException("lr", LearningRate, $"{Name}: learning rate must be finite and >= 0");
        if (!double.IsFinite(WeightDecay) || WeightDecay < 0)
            throw new ArgumentOutOfRangeException("weight_decay", WeightDecay, $"{Name}: weight decay must be finite and >= 0");
    }

    string Name => GetType().Name.Replace("Options", "");

    protected void CheckBeta(double beta, string name)
    {
        if (!(beta >= 0 && beta < 1)) throw new ArgumentOutOfRangeException(name, beta, $"{Name}: {name} must be in [0, 1)");
    }

    protected void CheckNonNegative(double value, string name)
    {
        if (!double.IsFinite(value) || value < 0) throw new ArgumentOutOfRangeException(name, value, $"{Name}: {name} must be finite and >= 0");
    }

    /// <summary>Named numeric values for state dicts ("lr", "betas"...), as PyTorch names them.</summary>
    public virtual IEnumerable<(string Name, double Value)> Values()
    {
        yield return ("lr", Lr);
        yield return ("initial_lr", InitialLearningRate);
        yield return ("weight_decay", WeightDecay);
        yield return ("maximize", Maximize ? 1 : 0);
    }

    /// <summary>Sets a value read back from a state dict.</summary>
    public virtual void SetValue(string name, double value)
    {
        switch (name)
        {
            case "lr": Lr = value; break;
            case "initial_lr": InitialLearningRate = value; break;
            case "weight_decay": WeightDecay = value; break;
            case "maximize": Maximize = value != 0; break;
            default: throw new ArgumentException($"{GetType().Name} has no hyperparameter '{name}'");
        }
    }

    // TorchSharp's save_state_dict/load_state_dict call these: name/value pairs, so a state saved by
    // one version reads back even when options gain a field.
    public override void SaveStateDict(BinaryWriter writer)
    {
        var values = Values().ToList();
        writer.Write(values.Count);
        foreach (var (name, value) in values)
        {
            writer.Write(name);
            writer.Write(value);
        }
    }

    public override void LoadStateDict(BinaryReader reader)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > 1000) throw new InvalidDataException($"{GetType().Name}: corrupt optimizer options ({count.ToString(CultureInfo.InvariantCulture)} values)");
        for (int i = 0; i < count; i++)
        {
            string name = reader.ReadString();
            SetValue(name, reader.ReadDouble());
        }
    }

    public override void LoadStateDict(TorchSharp.Modules.OptimizerOptions source)
    {
        if (source is not OptimizerOptions other || other.GetType() != GetType())
            throw new ArgumentException($"{GetType().Name}.LoadStateDict: got {source?.GetType().Name ?? "null"}");
        foreach (var (name, value) in other.Values()) SetValue(name, value);
    }
}

/// <summary>
/// The hyperparameters of the Adam family (Adam, AdamW, Adamax, NAdam, RAdam, LAMB): the decay
/// rates of the first and second moments and the ε that keeps the denominator away from zero.
/// One-cycle schedules cycle β₁ through <see cref="torch.optim.IBetas"/>.
/// </summary>
public abstract class MomentOptions : OptimizerOptions
{
    /// <summary>β₁: decay of the first moment (the mean of gradients).</summary>
    public double Beta1 { get; set; } = 0.9;
    /// <summary>β₂: decay of the second moment (the mean of squared gradients, or its stand-in).</summary>
    public double Beta2 { get; set; } = 0.999;
    /// <summary>ε: keeps the denominator away from zero.</summary>
    public double Eps { get; set; } = 1e-8;

    public override (double, double)? Betas
    {
        get => (Beta1, Beta2);
        set { if (value is (double b1, double b2)) { Beta1 = b1; Beta2 = b2; } }
    }

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
