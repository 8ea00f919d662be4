namespace Engine.Init;

public static partial class Init
{
    /// <summary>U(a, b), in place under no-grad (torch.nn.init.uniform_). PyTorch's Linear and
    /// Conv biases and every RNN weight are drawn this way.</summary>
    public static Tensor Uniform_(Tensor tensor, double a = 0, double b = 1, Generator? generator = null)
    {
        if (!(a <= b)) throw new ArgumentException($"Uniform_: the lower bound {a} must not exceed the upper bound {b}");
        using (no_grad()) return tensor.uniform_(a, b, generator);
    }
}
