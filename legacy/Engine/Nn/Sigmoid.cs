namespace Engine.Nn;

/// <summary>σ(x) = 1 / (1 + e⁻ˣ) (nn.Sigmoid).
/// Checked against nn.Sigmoid (Python fixtures) and aten::sigmoid, in ActivationTests.
/// </summary>
public sealed class Sigmoid : Module<Tensor, Tensor>
{
    public override Tensor Forward(Tensor input) => input.Sigmoid();
}
