namespace Engine.Nn;

/// <summary>max(0, x) (nn.ReLU). In place overwrites the input (and returns it).
/// Checked against nn.ReLU (Python fixtures) and aten::relu, in ActivationTests.
/// </summary>
public sealed class ReLU(bool inplace = false) : Module<Tensor, Tensor>
{
    public bool Inplace { get; } = inplace;

    public override Tensor Forward(Tensor input) => Inplace ? input.Relu_().Alias() : input.Relu();

    public override string ExtraRepr() => Inplace ? "inplace=True" : "";
}
