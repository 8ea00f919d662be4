namespace Engine.Nn;

/// <summary>
/// exp(xᵢ) / Σⱼ exp(xⱼ) along <see cref="Dim"/> (nn.Softmax). The dimension is required: PyTorch's
/// implicit choice (dim=None) is deprecated there and guesses by rank.
/// Checked against nn.Softmax (Python fixtures) and aten::softmax, in ActivationTests.
/// </summary>
public sealed class Softmax(long dim) : Module<Tensor, Tensor>
{
    public long Dim { get; } = dim;

    public override Tensor Forward(Tensor input)
    {
        int rank = input.Dim;
        int n = Math.Max(rank, 1);
        if (Dim < -n || Dim >= n)
            throw new ArgumentException($"{this}: dim {Dim} is out of range for input of shape {Repr.Shape(input.Shape)} ({rank}-d)");
        return input.Softmax(Dim);
    }

    public override string ExtraRepr() => $"dim={Dim}";
}
