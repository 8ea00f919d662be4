namespace Engine.Nn;

/// <summary>x · Φ(x), Φ the standard normal CDF (nn.GELU; Hendrycks &amp; Gimpel 2016), or with
/// Checked against nn.GELU (Python fixtures, both forms) and aten::gelu, in ActivationTests.
/// approximate "tanh": 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³))).</summary>
public sealed class GELU : Module<Tensor, Tensor>
{
    /// <summary>"none" (exact, with erf) or "tanh".</summary>
    public string Approximate { get; }

    public GELU(string approximate = "none")
    {
        if (approximate is not ("none" or "tanh"))
            throw new ArgumentException($"GELU: approximate must be 'none' or 'tanh', got '{approximate}'");
        Approximate = approximate;
    }

    public override Tensor Forward(Tensor input) => Functional.Gelu(input, Approximate);

    public override string ExtraRepr() => $"approximate='{Approximate}'";
}
