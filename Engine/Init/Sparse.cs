namespace Engine.Init;

public static partial class Init
{
    /// <summary>
    /// Sparse (torch.nn.init.sparse_; Martens 2010, "Deep learning via Hessian-free optimization"):
    /// a 2-d weight drawn from N(0, std²), then in every column exactly ⌈sparsity · rows⌉ entries,
    /// picked by a random permutation of the rows, set to 0. Same draws in the same order as PyTorch
    /// (normal_, then one randperm(rows) per column); the generator, when given, serves both draws
    /// (PyTorch's randperm here always uses the default generator).
    /// </summary>
    public static Tensor Sparse_(Tensor tensor, double sparsity, double std = 0.01, Generator? generator = null)
    {
        if (tensor.dim() != 2)
            throw new ArgumentException($"Sparse_: only 2-d tensors are supported (got [{string.Join(", ", tensor.shape)}])", nameof(tensor));
        if (!(sparsity >= 0 && sparsity <= 1))
            throw new ArgumentException($"Sparse_: sparsity must be in [0, 1] (got {sparsity}) for a tensor of shape [{string.Join(", ", tensor.shape)}]", nameof(sparsity));
        if (!(std >= 0)) throw new ArgumentOutOfRangeException(nameof(std), std, "Sparse_: std must be >= 0");
        long rows = tensor.shape[0], cols = tensor.shape[1];
        long numZeros = (long)Math.Ceiling(sparsity * rows);
        using (no_grad())
        {
            tensor.normal_(0, std, generator);
            for (long c = 0; c < cols; c++)
            {
                using var scope = NewDisposeScope();
                var zeroRows = randperm(rows, generator: generator).narrow(0, 0, numZeros);
                tensor.select(1, c).index_fill_(0, zeroRows, 0);
            }
        }
        return tensor;
    }
}
