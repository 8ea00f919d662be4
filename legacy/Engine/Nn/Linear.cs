namespace Engine.Nn;

/// <summary>
/// y = x Wᵀ + b (nn.Linear). Weight [out, in]; default initialization as PyTorch's:
/// W and b ~ U(-1/√in, 1/√in) (kaiming_uniform_ with a = √5 reduces to this bound), drawn in that order.
/// </summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    public long InFeatures { get; }
    public long OutFeatures { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public Linear(long inFeatures, long outFeatures, bool bias = true, Device? device = null, ScalarType? dtype = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear({inFeatures}, {outFeatures}): sizes must be positive");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        double bound = 1.0 / Math.Sqrt(inFeatures);
        using (var w = Torch.Empty([outFeatures, inFeatures], dtype, device))
        using (Torch.NoGrad())
            Weight = new Parameter(w.Uniform_(-bound, bound));
        if (bias)
        {
            using var b = Torch.Empty([outFeatures], dtype, device);
            using (Torch.NoGrad())
                Bias = new Parameter(b.Uniform_(-bound, bound), role: ParameterRole.Bias);
        }
    }

    public override Tensor Forward(Tensor input)
    {
        var shape = input.Shape;
        if (shape.Length == 0 || shape[^1] != InFeatures)
            throw new ArgumentException(
                $"{this}: expected input [..., {InFeatures}] (in_features={InFeatures}), got [{string.Join(", ", shape)}]");
        return Functional.Linear(input, Weight, Bias);
    }

    public override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={(Bias is null ? "False" : "True")}";
}
