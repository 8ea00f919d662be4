namespace Engine.Regularization;

/// <summary>
/// Mixup or CutMix per batch (timm's Mixup with switch_prob; the seed's "apply MixUp 50% of the time"):
/// with probability <see cref="Probability"/> the batch is mixed at all; if so, CutMix with
/// probability <see cref="SwitchProbability"/>, else Mixup. Unmixed batches still get one-hot (or
/// smoothed) soft targets, so the loss call is the same for every batch. Optional label smoothing ε
/// is applied to the targets before mixing. Deterministic under the generator's seed.
/// </summary>
public sealed class MixupCutMix
{
    public MixupCutMix(long numClasses, double mixupAlpha = 0.2, double cutMixAlpha = 1.0, double probability = 1.0,
        double switchProbability = 0.5, double labelSmoothing = 0.0, Generator? generator = null)
    {
        const string call = nameof(MixupCutMix);
        Mixing.Alpha(call, mixupAlpha);
        Mixing.Alpha(call, cutMixAlpha);
        Probability = Checks.Probability(call, probability, nameof(probability));
        SwitchProbability = Checks.Probability(call, switchProbability, nameof(switchProbability));
        LabelSmoothing = Checks.Probability(call, labelSmoothing, nameof(labelSmoothing));
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"{call}: numClasses must be at least 1");
        NumClasses = numClasses;
        Generator = generator;
        Mixup = new Mixup(mixupAlpha, numClasses, generator);
        CutMix = new CutMix(cutMixAlpha, numClasses, generator);
    }

    public long NumClasses { get; }
    public double Probability { get; }
    public double SwitchProbability { get; }
    public double LabelSmoothing { get; }
    public Generator? Generator { get; }
    public Mixup Mixup { get; }
    public CutMix CutMix { get; }

    public MixedBatch Apply(Tensor input, Tensor target)
    {
        Mixing.Batch(nameof(MixupCutMix), input, target);
        using var scope = NewDisposeScope();
        var soft = Regularization.LabelSmoothing.Smooth(target, NumClasses, LabelSmoothing, input.dtype);
        var u = rand([2], ScalarType.Float64, generator: Generator).data<double>().ToArray();
        MixedBatch result;
        if (u[0] >= Probability)
            result = new MixedBatch(input.alias(), soft.alias(), 1.0, 1.0, arange(input.shape[0], device: input.device), null);
        else if (u[1] < SwitchProbability) result = CutMix.Apply(input, soft);
        else result = Mixup.Apply(input, soft);
        result.Input.MoveToOuterDisposeScope();
        result.Target.MoveToOuterDisposeScope();
        result.Permutation.MoveToOuterDisposeScope();
        return result;
    }
}
