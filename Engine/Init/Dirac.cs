namespace Engine.Init;

public static partial class Init
{
    /// <summary>
    /// Dirac delta (torch.nn.init.dirac_): a Conv1d/2d/3d weight [out, in/groups, k...] that makes
    /// the convolution the identity on as many channels as it can: in each of the
    /// <paramref name="groups"/> groups, w[g·out/groups + d, d, centre] = 1 for
    /// d &lt; min(out/groups, in/groups), 0 elsewhere. TorchSharp 0.107's <c>dirac_</c> has no groups.
    /// </summary>
    public static Tensor Dirac_(Tensor tensor, int groups = 1)
    {
        var shape = tensor.shape;
        if (shape.Length is < 3 or > 5)
            throw new ArgumentException($"Dirac_: only 3-, 4- or 5-d convolution weights are supported (got [{string.Join(", ", shape)}])", nameof(tensor));
        if (groups < 1 || shape[0] % groups != 0)
            throw new ArgumentException($"Dirac_: groups = {groups} must be positive and divide dim 0 of [{string.Join(", ", shape)}]", nameof(groups));
        long outPerGroup = shape[0] / groups;
        long minDim = Math.Min(outPerGroup, shape[1]);
        using (no_grad())
        {
            tensor.zero_();
            var index = new long[shape.Length];
            for (int i = 2; i < shape.Length; i++) index[i] = shape[i] / 2;
            for (long g = 0; g < groups; g++)
                for (long d = 0; d < minDim; d++)
                {
                    index[0] = g * outPerGroup + d;
                    index[1] = d;
                    using var element = tensor[index];
                    element.fill_(1);
                }
            return tensor;
        }
    }
}
