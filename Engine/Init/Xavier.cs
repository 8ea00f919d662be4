namespace Engine.Init;

public static partial class Init
{
    /// <summary>
    /// Xavier/Glorot uniform (torch.nn.init.xavier_uniform_; Glorot &amp; Bengio 2010):
    /// U(−a, a) with a = gain · √(6 / (fan_in + fan_out)), computed as √3 · gain · √(2 / (fan_in + fan_out))
    /// exactly as PyTorch does. For tanh and sigmoid layers; MultiheadAttention's in-projection.
    /// </summary>
    public static Tensor XavierUniform_(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = Fans(tensor, nameof(XavierUniform_));
        double std = gain * Math.Sqrt(2.0 / (double)(fanIn + fanOut));
        double a = Math.Sqrt(3.0) * std;
        using (no_grad()) return tensor.uniform_(-a, a, generator);
    }

    /// <summary>Xavier/Glorot normal (torch.nn.init.xavier_normal_): N(0, std²) with
    /// std = gain · √(2 / (fan_in + fan_out)).</summary>
    public static Tensor XavierNormal_(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = Fans(tensor, nameof(XavierNormal_));
        double std = gain * Math.Sqrt(2.0 / (double)(fanIn + fanOut));
        using (no_grad()) return tensor.normal_(0, std, generator);
    }
}
