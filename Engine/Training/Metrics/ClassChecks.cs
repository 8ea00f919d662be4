namespace Engine.Training.Metrics;

/// <summary>Shape rules shared by the classification metrics (managed errors instead of libtorch's).</summary>
internal static class ClassChecks
{
    /// <summary>prediction [N, C, d…] with an integer target [N, d…].</summary>
    public static void CheckIndexTarget(Tensor prediction, Tensor target, string metric)
    {
        if (prediction.dim() < 2 || target.is_floating_point() || target.dim() != prediction.dim() - 1
            || target.shape[0] != prediction.shape[0] || !prediction.shape.Skip(2).SequenceEqual(target.shape.Skip(1)))
            throw new ArgumentException(
                $"{metric}: expected a prediction [N, C, ...] and integer class indices [N, ...], got prediction {Metric.Shape(prediction)} ({prediction.dtype}) and target {Metric.Shape(target)} ({target.dtype})");
    }
}
