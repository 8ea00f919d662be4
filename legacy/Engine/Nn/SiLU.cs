namespace Engine.Nn;

/// <summary>x · σ(x) (nn.SiLU, also called swish; Elfwing et al. 2017, Ramachandran et al. 2017).
/// Checked against nn.SiLU (Python fixtures) and aten::silu, in ActivationTests.
/// </summary>
public sealed class SiLU(bool inplace = false) : Module<Tensor, Tensor>
{
    static readonly Op s_silu_ = new("aten::silu_");

    public bool Inplace { get; } = inplace;

    public override Tensor Forward(Tensor input)
    {
        if (!Inplace) return input.Silu();
        s_silu_.CallInPlace(input);
        return input.Alias();
    }

    public override string ExtraRepr() => Inplace ? "inplace=True" : "";
}
