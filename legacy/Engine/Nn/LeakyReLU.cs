namespace Engine.Nn;

/// <summary>x if x ≥ 0, else negative_slope · x (nn.LeakyReLU; slope 0.01 by default).
/// Checked against nn.LeakyReLU (Python fixtures) and aten::leaky_relu, in ActivationTests.
/// </summary>
public sealed class LeakyReLU(double negativeSlope = 0.01, bool inplace = false) : Module<Tensor, Tensor>
{
    static readonly Op s_leakyRelu_ = new("aten::leaky_relu_");

    public double NegativeSlope { get; } = negativeSlope;
    public bool Inplace { get; } = inplace;

    public override Tensor Forward(Tensor input)
    {
        if (!Inplace) return input.LeakyRelu(NegativeSlope);
        s_leakyRelu_.CallInPlace(input, NegativeSlope);
        return input.Alias();
    }

    public override string ExtraRepr() => $"negative_slope={Repr.Float(NegativeSlope)}{(Inplace ? ", inplace=True" : "")}";
}
