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
public sealed class Accuracy(string name = "accuracy", double threshold = 0.5) : HitRate
{
    public override string Name { get; } = name;
    public double Threshold { get; } = threshold;

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
        AddHits(hits);
    }
}
