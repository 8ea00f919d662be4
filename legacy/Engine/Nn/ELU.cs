namespace Engine.Nn;

/// <summary>x if x &gt; 0, else α · (eˣ − 1) (nn.ELU; Clevert et al. 2015; α = 1 by default).
/// Checked against nn.ELU (Python fixtures) and aten::elu, in ActivationTests.
/// </summary>
public sealed class ELU(double alpha = 1.0, bool inplace = false) : Module<Tensor, Tensor>
{
    static readonly Op s_elu_ = new("aten::elu_");

    public double Alpha { get; } = alpha;
    public bool Inplace { get; } = inplace;

    public override Tensor Forward(Tensor input)
    {
        if (!Inplace) return input.Elu(Alpha);
        s_elu_.CallInPlace(input, Alpha);
        return input.Alias();
    }

    public override string ExtraRepr() => $"alpha={Repr.Float(Alpha)}{(Inplace ? ", inplace=True" : "")}";
}
