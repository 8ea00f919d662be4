namespace Engine.Distributed;

/// <summary>How a collective combines the ranks' tensors (torch.distributed's <c>ReduceOp</c>).
/// <see cref="Average"/> is the sum divided by the world size (floating-point tensors only).</summary>
public enum ReduceOp { Sum, Average, Max, Min, Product }
