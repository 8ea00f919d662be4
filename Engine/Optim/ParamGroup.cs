namespace Engine.Optim;

/// <summary>
/// Parameters that share hyperparameters (a PyTorch param_group). A TorchSharp
/// <c>ParamGroup</c>, so TorchSharp's schedulers set its <c>LearningRate</c>; a group whose
/// options have betas is also a <see cref="torch.optim.IBetas"/>, one whose options have a
/// momentum an <see cref="torch.optim.IMomentum"/>, so OneCycleLR cycles the right one (it asks
/// the group for IBetas first; a group answering both would send SGD's cycle to betas it lacks).
/// </summary>
public class ParamGroup : TorchSharp.Modules.ParamGroup
{
    readonly Parameter[] _parameters;

    /// <summary>The group for these options: with IBetas, IMomentum or neither.</summary>
    internal static ParamGroup For(Parameter[] parameters, OptimizerOptions options) =>
        options.Betas is not null ? new WithBetas(parameters, options)
        : options.Momentum is not null ? new WithMomentum(parameters, options)
        : new ParamGroup(parameters, options);

    sealed class WithBetas(Parameter[] parameters, OptimizerOptions options) : ParamGroup(parameters, options), torch.optim.IBetas;
    sealed class WithMomentum(Parameter[] parameters, OptimizerOptions options) : ParamGroup(parameters, options), torch.optim.IMomentum;

    private protected ParamGroup(Parameter[] parameters, OptimizerOptions options)
    {
        _parameters = parameters;
        base.Parameters = parameters;
        base.Options = options;
    }

    /// <summary>The group's parameters, in order (a list that walks without allocating).</summary>
    public new ReadOnlySpan<Parameter> Parameters => _parameters;

    /// <summary>The group's parameters as a list.</summary>
    public IReadOnlyList<Parameter> ParameterList => _parameters;

    /// <summary>The group's hyperparameters.</summary>
    public new OptimizerOptions Options => (OptimizerOptions)base.Options;

    public double Momentum
    {
        get => Options.Momentum ?? throw new NotSupportedException($"{Options.GetType().Name} has no momentum");
        set => Options.Momentum = value;
    }

    public (double, double) Betas
    {
        get => Options.Betas ?? throw new NotSupportedException($"{Options.GetType().Name} has no betas");
        set => Options.Betas = value;
    }
}

/// <summary>Parameters for a new group and how its options differ from the optimizer's defaults.</summary>
public sealed record ParamGroupSpec(IEnumerable<Parameter> Parameters, Action<OptimizerOptions>? Configure = null)
{
    /// <summary>
    /// The usual weight-decay split: decay for weights, none for biases and normalization
    /// parameters (1-d tensors), which users otherwise rebuild by hand for every model.
    /// Frozen parameters (requires_grad false) are left out.
    /// </summary>
    public static ParamGroupSpec[] WeightDecaySplit(nn.Module module, double weightDecay)
    {
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var p in module.parameters())
        {
            if (!p.requires_grad) continue;
            if (p.dim() <= 1) noDecay.Add(p);
            else decay.Add(p);
        }
        return
        [
            new(decay, o => o.WeightDecay = weightDecay),
            new(noDecay, o => o.WeightDecay = 0),
        ];
    }
}
