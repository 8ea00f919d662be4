namespace Engine.Nn;

/// <summary>Flattens dimensions startDim..endDim into one (nn.Flatten; by default every
/// Checked against nn.Flatten (Python fixtures) and aten::flatten, in FlattenTests.
/// dimension but the batch: [N, C, H, W] → [N, C·H·W]). A view when the layout allows.</summary>
public sealed class Flatten : Module<Tensor, Tensor>
{
    public long StartDim { get; }
    public long EndDim { get; }

    public Flatten(long startDim = 1, long endDim = -1)
    {
        StartDim = startDim;
        EndDim = endDim;
    }

    public override Tensor Forward(Tensor input)
    {
        int rank = input.Dim;
        int n = Math.Max(rank, 1); // a 0-d tensor flattens as if 1-d, as in PyTorch
        long start = StartDim < 0 ? StartDim + n : StartDim, end = EndDim < 0 ? EndDim + n : EndDim;
        if (start < 0 || start >= n || end < 0 || end >= n || start > end)
            throw new ArgumentException(
                $"{this}: dimensions {StartDim}..{EndDim} do not fit an input of shape {Repr.Shape(input.Shape)} ({rank}-d){(start > end && start < n && end >= 0 ? "; start_dim comes after end_dim" : "")}");
        return input.Flatten(StartDim, EndDim);
    }

    public override string ExtraRepr() => $"start_dim={StartDim}, end_dim={EndDim}";
}
