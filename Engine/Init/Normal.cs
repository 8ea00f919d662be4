namespace Engine.Init;

public static partial class Init
{
    /// <summary>N(mean, std²), in place under no-grad (torch.nn.init.normal_). Embedding
    /// tables start as N(0, 1).</summary>
    public static Tensor Normal_(Tensor tensor, double mean = 0, double std = 1, Generator? generator = null)
    {
        if (!(std >= 0)) throw new ArgumentOutOfRangeException(nameof(std), std, "Normal_: std must be >= 0");
        using (no_grad()) return tensor.normal_(mean, std, generator);
    }
}
