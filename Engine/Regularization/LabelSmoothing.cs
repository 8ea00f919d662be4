using Engine.Losses;

namespace Engine.Regularization;

/// <summary>
/// Label smoothing (Szegedy et al., 2016; the seeds' "CE with soft targets: regularization,
/// calibration"): the one-hot target is mixed with the uniform distribution over C classes,
/// <code>y_smooth = (1 − ε)·onehot(y) + ε / C</code>
/// so the model is never pushed towards infinite logit gaps. Cross-entropy against y_smooth equals
/// <see cref="Loss.CrossEntropy"/> with <c>labelSmoothing = ε</c>, which equals TorchSharp's
/// <c>cross_entropy(label_smoothing: ε)</c> (checked).
/// </summary>
public static class LabelSmoothing
{
    /// <summary>Soft targets [N, C] from class indices [N] (or smooths probability targets [N, C]).</summary>
    public static Tensor Smooth(Tensor target, long numClasses, double epsilon, ScalarType dtype = ScalarType.Float32)
    {
        const string call = "LabelSmoothing.Smooth";
        if (!(epsilon >= 0 && epsilon <= 1))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"{call}: ε = {epsilon} must be in [0, 1]");
        using var scope = NewDisposeScope();
        var probs = Mixing.Probabilities(call, target, numClasses, dtype);
        return probs.mul(1 - epsilon).add_(epsilon / numClasses).MoveToOuterDisposeScope();
    }

    /// <summary>Cross-entropy of logits against class indices with smoothing ε: <see cref="Loss.CrossEntropy"/>.</summary>
    public static Tensor CrossEntropy(Tensor logits, Tensor target, double epsilon) =>
        Loss.CrossEntropy(logits, target, labelSmoothing: epsilon);
}
