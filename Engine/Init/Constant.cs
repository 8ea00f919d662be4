namespace Engine.Init;

public static partial class Init
{
    /// <summary>Fills with <paramref name="value"/>, in place under no-grad (torch.nn.init.constant_).</summary>
    public static Tensor Constant_(Tensor tensor, double value)
    {
        using (no_grad()) return tensor.fill_(value);
    }

    /// <summary>Fills with 1 (torch.nn.init.ones_).</summary>
    public static Tensor Ones_(Tensor tensor) => Constant_(tensor, 1.0);

    /// <summary>Fills with 0 (torch.nn.init.zeros_).</summary>
    public static Tensor Zeros_(Tensor tensor)
    {
        using (no_grad()) return tensor.zero_();
    }
}
