namespace Engine.Nn;

/// <summary>tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ) (nn.Tanh).
/// Checked against nn.Tanh (Python fixtures) and aten::tanh, in ActivationTests.
/// </summary>
public sealed class Tanh : Module<Tensor, Tensor>
{
    public override Tensor Forward(Tensor input) => input.Tanh();
}
