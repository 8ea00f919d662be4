namespace Engine;

public static partial class Init
{
    /// <summary>N(mean, std²), in place under no-grad (torch.nn.init.normal_). Embedding
    /// tables start as N(0, 1).</summary>
    public static Tensor Normal_(Tensor tensor, double mean = 0, double std = 1, Generator? generator = null)
    {
        using (Torch.NoGrad()) return tensor.Normal_(mean, std, generator);
    }
}
