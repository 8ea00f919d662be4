namespace Engine;

public static partial class Init
{
    /// <summary>U(a, b), in place under no-grad (torch.nn.init.uniform_). PyTorch's Linear and
    /// Conv biases and every RNN weight are drawn this way.</summary>
    public static Tensor Uniform_(Tensor tensor, double a = 0, double b = 1, Generator? generator = null)
    {
        using (Torch.NoGrad()) return tensor.Uniform_(a, b, generator);
    }
}
