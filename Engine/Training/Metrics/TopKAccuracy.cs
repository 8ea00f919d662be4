namespace Engine.Training.Metrics;

/// <summary>
/// The fraction of samples whose true class is among the k highest scores (Keras'
/// top_k_categorical_accuracy with integer labels, sparse_top_k_categorical_accuracy):
/// <code>correct = Σᵢ [target[i] ∈ topk(prediction[i], k)],   top-k accuracy = correct / N</code>
/// prediction [N, C], target [N] class indices. Ties at the k-th score are resolved by
/// <c>torch.topk</c>'s order.
/// </summary>
public sealed class TopKAccuracy : HitRate
{

    public TopKAccuracy(int k, string? name = null)
    {
        if (k < 1) throw new ArgumentOutOfRangeException(nameof(k), k, "TopKAccuracy: k must be at least 1");
        K = k;
        Name = name ?? $"top{k}_accuracy";
    }

    public int K { get; }
    public override string Name { get; }

    public override void Update(Tensor prediction, Tensor target)
    {
        ClassChecks.CheckIndexTarget(prediction, target, Name);
        if (prediction.shape[1] < K)
            throw new ArgumentException($"{Name}: k = {K} but the prediction {Shape(prediction)} has only {prediction.shape[1]} classes");
        using var _ = NewDisposeScope();
        var top = prediction.detach().topk(K, dim: 1).indexes;
        var hits = top.eq(target.unsqueeze(1)).any(1);
        AddHits(hits);
    }
}
