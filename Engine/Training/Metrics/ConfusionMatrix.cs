namespace Engine.Training.Metrics;

/// <summary>
/// Counts of (true class, predicted class) pairs, M[t, p] = #{i : target[i] = t, argmax prediction[i] = p}
/// (rows true, columns predicted, as scikit-learn's confusion_matrix and torchmetrics). One
/// <c>bincount</c> of t·C + p per batch on device; <see cref="Read"/> copies the C×C counts to the
/// host. It reports no scalar itself (<see cref="Names"/> is empty); <see cref="PrecisionRecall"/>
/// derives per-class scores from it.
/// </summary>
public sealed class ConfusionMatrix : Metric
{
    Tensor? _counts;

    public ConfusionMatrix(int classes)
    {
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "ConfusionMatrix: the number of classes must be at least 1");
        NumClasses = classes;
    }

    public int NumClasses { get; }
    public override IReadOnlyList<string> Names => [];

    public override void Update(Tensor prediction, Tensor target)
    {
        ClassChecks.CheckIndexTarget(prediction, target, nameof(ConfusionMatrix));
        if (prediction.shape[1] != NumClasses)
            throw new ArgumentException($"ConfusionMatrix: built for {NumClasses} classes, the prediction {Shape(prediction)} has {prediction.shape[1]}");
        using var _ = NewDisposeScope();
        var predicted = prediction.detach().argmax(1).flatten();
        // Out-of-range labels would make bincount longer (or fail on negatives) rather than miscount:
        // the Trainer's dry run rejects them before training.
        var pair = target.flatten().to(ScalarType.Int64).mul(NumClasses).add(predicted);
        Accumulate(ref _counts, pair.bincount(null, NumClasses * NumClasses));
    }

    /// <summary>The counts so far, [true, predicted] (one host copy).</summary>
    public long[,] Read()
    {
        var m = new long[NumClasses, NumClasses];
        if (_counts is null) return m;
        using var cpu = _counts.cpu();
        var flat = cpu.data<long>().ToArray();
        for (int t = 0; t < NumClasses; t++)
            for (int p = 0; p < NumClasses; p++) m[t, p] = flat[t * NumClasses + p];
        return m;
    }

    public override IReadOnlyDictionary<string, double> Compute() => new Dictionary<string, double>();

    public override void Synchronize(Distributed.ProcessGroup group)
    {
        var device = _counts?.device ?? CPU;
        using var counts = _counts is null ? zeros(NumClasses * NumClasses, ScalarType.Int64) : _counts.to(ScalarType.Int64).cpu().contiguous().clone();
        group.AllReduce(counts, Distributed.ReduceOp.Sum);
        Free(ref _counts);
        _counts = counts.to(device).DetachFromDisposeScope();
    }

    public override void Reset() => Free(ref _counts);
}
