namespace Engine.Distributed;

/// <summary>How a reducing collective (all-reduce, reduce-scatter) combines the ranks' tensors,
/// element by element: <c>Sum</c> = Σ_r x_r, <c>Average</c> = (1/world) Σ_r x_r,
/// <c>Max</c>/<c>Min</c> = max_r/min_r x_r, <c>Product</c> = Π_r x_r.</summary>
/// <remarks>Data-parallel training averages gradients: each rank's gradient is the mean over its
/// own micro-batch, so the mean of the ranks' gradients is the gradient of the global batch when
/// the ranks' batches are the same size.</remarks>
public enum ReduceOp
{
    Sum,
    Average,
    Max,
    Min,
    Product,
}
