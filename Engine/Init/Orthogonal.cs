namespace Engine.Init;

public static partial class Init
{
    /// <summary>
    /// (Semi-)orthogonal (torch.nn.init.orthogonal_; Saxe et al. 2014), the seeds' "QR decomposition"
    /// init for RNNs and deep networks: flatten the tensor to [rows = size(0), cols = numel/rows],
    /// draw A ~ N(0, 1) of that shape (transposed when rows &lt; cols), factor A = QR, and fix the
    /// signs, Q ← Q · diag(sign(diag R)), which makes Q uniform (Haar) over orthogonal matrices
    /// (Mezzadri 2007); then W = gain · Q (transposed back). Rows are orthonormal when rows ≤ cols,
    /// columns when rows ≥ cols. Draws in the tensor's dtype as Python PyTorch does; TorchSharp
    /// 0.107's <c>orthogonal_</c> always draws float32 and has no generator.
    /// </summary>
    public static Tensor Orthogonal_(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        if (tensor.dim() < 2)
            throw new ArgumentException($"Orthogonal_: only tensors with 2 or more dimensions are supported (got [{string.Join(", ", tensor.shape)}])", nameof(tensor));
        if (tensor.numel() == 0) return tensor;
        long rows = tensor.shape[0];
        long cols = tensor.numel() / rows;
        using (no_grad())
        using (NewDisposeScope())
        {
            var flattened = empty([rows, cols], tensor.dtype, tensor.device).normal_(0, 1, generator);
            if (rows < cols) flattened = flattened.t();
            var (q, r) = linalg.qr(flattened);
            var ph = diag(r, 0).sign();
            q.mul_(ph);
            if (rows < cols) q = q.t();
            tensor.copy_(q.reshape(tensor.shape));
            tensor.mul_(gain);
        }
        return tensor;
    }
}
