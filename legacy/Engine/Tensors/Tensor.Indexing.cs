namespace Engine;

// Python-style indexing: t[0], t[1..3], t[.., 0], t[mask], t[indexTensor], and assignment.
public partial class Tensor
{
    static readonly Op s_index = new("aten::index", "Tensor"), s_indexPut_ = new("aten::index_put_");

    /// <summary>
    /// Basic indices (integers, ranges, Ellipsis, NewAxis) give a view; tensor indices (int64 or
    /// bool masks) give a copy, as in PyTorch. Setting copies the value in (broadcasting).
    /// </summary>
    [System.Runtime.CompilerServices.IndexerName("Indexer")]
    public Tensor this[params TensorIndex[] indices]
    {
        get => Index(indices);
        set => IndexPut_(indices, value);
    }

    /// <summary>Writes a number into the indexed elements (t[idx] = value).</summary>
    public Tensor IndexFill_(double value, params TensorIndex[] indices)
    {
        using var v = Torch.Scalar(value, DType, Device);
        return IndexPut_(indices, v);
    }

    Tensor Index(TensorIndex[] indices)
    {
        var (view, advanced) = ApplyBasic(indices);
        if (advanced is null) return view;
        try { return s_index.Call(view, Arg.OptionalTensors(advanced)); }
        finally { view.Dispose(); }
    }

    Tensor IndexPut_(TensorIndex[] indices, Tensor value)
    {
        var (view, advanced) = ApplyBasic(indices);
        try
        {
            if (advanced is null) view.Copy_(value);
            else s_indexPut_.CallInPlace(view, Arg.OptionalTensors(advanced), value, false);
        }
        finally { view.Dispose(); }
        return this;
    }

    /// <summary>Applies integers, slices, Ellipsis and NewAxis as views; collects tensor indices
    /// by the dimension of the view they apply to (null where a dimension is not indexed).</summary>
    (Tensor View, Tensor?[]? Advanced) ApplyBasic(TensorIndex[] indices)
    {
        int rank = Dim;
        int consumed = 0, ellipses = 0;
        foreach (var ix in indices)
        {
            switch (ix.Kind)
            {
                case TensorIndex.Kinds.Int or TensorIndex.Kinds.Slice: consumed++; break;
                case TensorIndex.Kinds.Tensor: consumed += ix.Tensor!.DType == ScalarType.Bool ? ix.Tensor.Dim : 1; break;
                case TensorIndex.Kinds.Ellipsis: ellipses++; break;
            }
        }
        if (ellipses > 1) throw new IndexOutOfRangeException("an index can only have a single ellipsis");
        if (consumed > rank)
            throw new IndexOutOfRangeException($"too many indices for tensor of dimension {rank} (got {consumed})");

        var view = Alias();
        List<Tensor?>? advanced = null;
        long dim = 0, maskExtra = 0; // a k-d mask fills one place in the index list for k dims
        try
        {
            foreach (var ix in indices)
            {
                Tensor next;
                switch (ix.Kind)
                {
                    case TensorIndex.Kinds.Int:
                        next = view.Select(dim, ix.Value);
                        break;
                    case TensorIndex.Kinds.Slice:
                        next = ix.Start is null && ix.Stop is null && ix.Step == 1 ? view.Alias() : view.Slice(dim, ix.Start, ix.Stop, ix.Step);
                        dim++;
                        break;
                    case TensorIndex.Kinds.NewAxis:
                        next = view.Unsqueeze(dim);
                        dim++;
                        break;
                    case TensorIndex.Kinds.Ellipsis:
                        dim += rank - consumed;
                        continue;
                    default:
                        advanced ??= new List<Tensor?>();
                        while (advanced.Count < dim - maskExtra) advanced.Add(null);
                        advanced.Add(ix.Tensor);
                        long spans = ix.Tensor!.DType == ScalarType.Bool ? ix.Tensor.Dim : 1;
                        dim += spans;
                        maskExtra += spans - 1;
                        continue;
                }
                view.Dispose();
                view = next;
            }
        }
        catch
        {
            view.Dispose();
            throw;
        }
        return (view, advanced?.ToArray());
    }
}
