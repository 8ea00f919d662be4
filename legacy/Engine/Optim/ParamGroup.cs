namespace Engine.Optim;

/// <summary>Parameters that share hyperparameters (a PyTorch param_group).</summary>
public sealed class ParamGroup
{
    public IReadOnlyList<Tensor> Parameters { get; }
    public OptimizerOptions Options { get; }

    internal ParamGroup(IReadOnlyList<Tensor> parameters, OptimizerOptions options)
    {
        Parameters = parameters;
        Options = options;
    }

    /// <summary>The group's lr: what schedules set.</summary>
    public double LearningRate
    {
        get => Options.LearningRate;
        set => Options.LearningRate = value;
    }
}

/// <summary>A group's parameters: a read-only list whose foreach makes no allocation (optimizers
/// walk it every step).</summary>
public sealed class ParameterList(Tensor[] items) : IReadOnlyList<Tensor>
{
    public int Count => items.Length;
    public Tensor this[int index] => items[index];
    public ReadOnlySpan<Tensor>.Enumerator GetEnumerator() => new ReadOnlySpan<Tensor>(items).GetEnumerator();
    IEnumerator<Tensor> IEnumerable<Tensor>.GetEnumerator() => ((IEnumerable<Tensor>)items).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => items.GetEnumerator();
}

/// <summary>Parameters for a new group and how its options differ from the optimizer's defaults.</summary>
public sealed record ParamGroupSpec(IEnumerable<Tensor> Parameters, Action<OptimizerOptions>? Configure = null)
{
    /// <summary>
    /// The usual weight-decay split: decay for weights, none for biases and normalization
    /// parameters (what users keep rebuilding by hand for PyTorch). Uses each
    /// <see cref="Engine.Nn.Parameter.NoWeightDecay"/> flag; 1-d tensors count as no-decay too.
    /// </summary>
    public static ParamGroupSpec[] WeightDecaySplit(Engine.Nn.Module module, double weightDecay)
    {
        var decay = new List<Tensor>();
        var noDecay = new List<Tensor>();
        foreach (var p in module.Parameters())
        {
            if (!p.RequiresGrad) continue;
            if (p.NoWeightDecay || p.Dim <= 1) noDecay.Add(p);
            else decay.Add(p);
        }
        return
        [
            new(decay, o => o.WeightDecay = weightDecay),
            new(noDecay, o => o.WeightDecay = 0),
        ];
    }
}
