namespace Engine.Training.Metrics;

/// <summary>
/// The fraction of samples classified correctly (Keras' "accuracy"):
/// <code>
/// multi-class: prediction [N, C] (logits or probabilities), target [N] class indices
///              correct = Σᵢ [argmax_c prediction[i, c] == target[i]]
/// binary:      prediction and target of one shape, target 0/1
///              correct = Σᵢ [(prediction[i] > threshold) == (target[i] > 0.5)]
/// accuracy = correct / N
/// </code>
/// For logits of a binary model pass threshold 0 (sigmoid(z) > 0.5 ⇔ z > 0). Extra trailing
/// dimensions ([N, C, d…] with target [N, d…]) count every position.
/// </summary>
public sealed class Accuracy(string name = "accuracy", double threshold = 0.5) : Metric
{
    Tensor? _correct;
    long _count;

    public string Name { get; } = name;
    public double Threshold { get; } = threshold;
    public override IReadOnlyList<string> Names => [Name];

    public override void Update(Tensor prediction, Tensor target)
    {
        using var _ = NewDisposeScope();
        Tensor hits;
        if (prediction.shape.SequenceEqual(target.shape) && target.is_floating_point())
            hits = prediction.detach().gt(Threshold).eq(target.gt(0.5));
        else
        {
            ClassChecks.CheckIndexTarget(prediction, target, Name);
            hits = prediction.detach().argmax(1).eq(target);
        }
        Accumulate(ref _correct, hits.sum(ScalarType.Int64));
        _count += target.numel();
    }

    public override IReadOnlyDictionary<string, double> Compute() =>
        new Dictionary<string, double> { [Name] = _correct is null || _count == 0 ? double.NaN : _correct.item<long>() / (double)_count };

    public override void Synchronize(Distributed.ProcessGroup group)
    {
        var v = SumAcross(group, Value(_correct), _count);
        Set(ref _correct, v[0], ScalarType.Int64);
        _count = (long)v[1];
    }

    public override void Reset()
    {
        Free(ref _correct);
        _count = 0;
    }
}
