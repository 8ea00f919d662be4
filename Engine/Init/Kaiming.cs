namespace Engine.Init;

public static partial class Init
{
    /// <summary>
    /// He/Kaiming uniform (torch.nn.init.kaiming_uniform_; He et al. 2015): U(−bound, bound) with
    /// std = gain / √fan and bound = √3 · std, gain from <see cref="CalculateGain"/>(nonlinearity, a).
    /// PyTorch's Linear and Conv layers use a = √5, which makes bound = 1/√fan_in.
    /// A tensor with no elements is left as is.
    /// </summary>
    public static Tensor KaimingUniform_(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null)
    {
        if (tensor.numel() == 0) return tensor;
        long fan = CalculateCorrectFan(tensor, mode, nameof(KaimingUniform_));
        double gain = CalculateGain(nonlinearity, a);
        double std = gain / Math.Sqrt(fan);
        double bound = Math.Sqrt(3.0) * std;
        using (no_grad()) return tensor.uniform_(-bound, bound, generator);
    }

    /// <summary>
    /// He/Kaiming normal (torch.nn.init.kaiming_normal_): N(0, std²) with std = gain / √fan.
    /// The seeds' "He init" for ReLU networks is KaimingNormal_(w, mode: FanIn, nonlinearity: Relu),
    /// std = √(2 / n_in).
    /// </summary>
    public static Tensor KaimingNormal_(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null)
    {
        if (tensor.numel() == 0) return tensor;
        long fan = CalculateCorrectFan(tensor, mode, nameof(KaimingNormal_));
        double gain = CalculateGain(nonlinearity, a);
        double std = gain / Math.Sqrt(fan);
        using (no_grad()) return tensor.normal_(0, std, generator);
    }
}
