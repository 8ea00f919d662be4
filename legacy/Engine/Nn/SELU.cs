namespace Engine.Nn;

/// <summary>scale · (x if x &gt; 0, else α · (eˣ − 1)) with α ≈ 1.6733 and scale ≈ 1.0507 (nn.SELU;
/// Checked against nn.SELU (Python fixtures) and aten::selu, in ActivationTests.
/// Klambauer et al. 2017, self-normalizing networks; pair with LeCun-normal weights).</summary>
public sealed class SELU(bool inplace = false) : Module<Tensor, Tensor>
{
    static readonly Op s_selu_ = new("aten::selu_");

    public bool Inplace { get; } = inplace;

    public override Tensor Forward(Tensor input)
    {
        if (!Inplace) return input.Selu();
        s_selu_.CallInPlace(input);
        return input.Alias();
    }

    public override string ExtraRepr() => Inplace ? "inplace=True" : "";
}
