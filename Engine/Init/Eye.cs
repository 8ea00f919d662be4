namespace Engine.Init;

public static partial class Init
{
    /// <summary>
    /// Identity (torch.nn.init.eye_): a 2-d tensor [n, m] gets 1 on its diagonal and 0 elsewhere, so a
    /// Linear layer starts by passing its input through (truncated or zero-padded when n ≠ m).
    /// </summary>
    public static Tensor Eye_(Tensor tensor)
    {
        if (tensor.dim() != 2)
            throw new ArgumentException($"Eye_: only 2-d tensors are supported (got [{string.Join(", ", tensor.shape)}])", nameof(tensor));
        using (no_grad())
        {
            tensor.zero_();
            tensor.diagonal().fill_(1);
            return tensor;
        }
    }
}
