namespace Engine.Init;

/// <summary>Which fan a variance-preserving initializer divides by (torch.nn.init's mode):
/// fan-in keeps the forward pass's variance, fan-out the backward pass's.</summary>
public enum FanMode { FanIn, FanOut }

/// <summary>The activation a layer feeds, for <see cref="Init.CalculateGain"/>.</summary>
public enum Nonlinearity { Linear, Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, Sigmoid, Tanh, Relu, LeakyRelu, Selu }

/// <summary>
/// Weight initialization (torch.nn.init): in place, under no-grad, on any TorchSharp tensor or
/// <see cref="Parameter"/>. Formulas and the order of random draws are PyTorch's, so after the
/// same seed the values equal TorchSharp's <c>torch.nn.init.*</c> (and Python's) bit for bit.
/// Each initializer also takes an optional <see cref="torch.Generator"/>, which TorchSharp's
/// kaiming and xavier initializers lack.
/// </summary>
public static partial class Init
{
    /// <summary>
    /// fan_in = size(1) · receptive field, fan_out = size(0) · receptive field, where the receptive
    /// field is the product of the sizes after the first two (1 for a matrix). A Linear weight
    /// [out, in] has fan_in = in; a Conv2d weight [out, in/groups, kh, kw] has fan_in = in/groups·kh·kw.
    /// </summary>
    public static (long FanIn, long FanOut) CalculateFanInAndFanOut(Tensor tensor) => Fans(tensor, nameof(CalculateFanInAndFanOut));

    /// <summary>The fans, with the initializer that asked named in the error.</summary>
    static (long FanIn, long FanOut) Fans(Tensor tensor, string call)
    {
        var shape = tensor.shape;
        if (shape.Length < 2)
            throw new ArgumentException(
                $"{call}: fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (got [{string.Join(", ", shape)}])",
                nameof(tensor));
        long receptive = 1;
        for (int i = 2; i < shape.Length; i++) receptive *= shape[i];
        return (shape[1] * receptive, shape[0] * receptive);
    }

    static long CalculateCorrectFan(Tensor tensor, FanMode mode, string call)
    {
        var (fanIn, fanOut) = Fans(tensor, call);
        return mode switch
        {
            FanMode.FanIn => fanIn,
            FanMode.FanOut => fanOut,
            _ => throw new ArgumentException($"{call}: mode {mode} is not FanIn or FanOut", nameof(mode)),
        };
    }

    /// <summary>
    /// The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): 1 for linear,
    /// convolution and sigmoid, 5/3 for tanh, √2 for ReLU, √(2 / (1 + slope²)) for leaky ReLU
    /// (slope = <paramref name="param"/>, default 0.01), 3/4 for SELU.
    /// </summary>
    public static double CalculateGain(Nonlinearity nonlinearity, double? param = null) => nonlinearity switch
    {
        Nonlinearity.Linear or Nonlinearity.Conv1d or Nonlinearity.Conv2d or Nonlinearity.Conv3d or Nonlinearity.ConvTranspose1d
            or Nonlinearity.ConvTranspose2d or Nonlinearity.ConvTranspose3d or Nonlinearity.Sigmoid => 1,
        Nonlinearity.Tanh => 5.0 / 3,
        Nonlinearity.Relu => Math.Sqrt(2.0),
        // Python writes negative_slope ** 2, which is C's pow: Math.Pow keeps the last bit equal.
        Nonlinearity.LeakyRelu => Math.Sqrt(2.0 / (1 + Math.Pow(param ?? 0.01, 2))),
        Nonlinearity.Selu => 3.0 / 4,
        _ => throw new ArgumentException($"CalculateGain: unknown nonlinearity {nonlinearity}", nameof(nonlinearity)),
    };
}
