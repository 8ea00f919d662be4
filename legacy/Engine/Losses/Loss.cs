using Engine.Nn;

namespace Engine.Losses;

/// <summary>
/// A loss module of an input and a target (nn.MSELoss, nn.CrossEntropyLoss...): it holds the
/// options and calls the function in <see cref="Losses"/>. Losses of three or four tensors
/// (triplet, ranking, CTC) derive from <see cref="Module{TIn,TOut}"/> with a tuple instead.
/// </summary>
public abstract class Loss : Module<(Tensor Input, Tensor Target), Tensor>
{
    public Reduction Reduction { get; }

    /// <param name="reduction">None, Mean or Sum; BatchMean too where <paramref name="allowBatchMean"/>.</param>
    protected Loss(Reduction reduction, bool allowBatchMean = false)
    {
        if (!(allowBatchMean && reduction == Reduction.BatchMean)) Functional.CheckReduction(TypeName, reduction);
        Reduction = reduction;
    }

    public abstract Tensor Forward(Tensor input, Tensor target);

    public sealed override Tensor Forward((Tensor Input, Tensor Target) x) => Forward(x.Input, x.Target);

    /// <summary>Runs <see cref="Forward(Tensor, Tensor)"/> and the forward hooks.</summary>
    public Tensor Call(Tensor input, Tensor target) => Call((input, target));

    public override string ExtraRepr() => Reduction == Reduction.Mean ? "" : $"reduction={Reduction.ToString().ToLowerInvariant()}";
}
