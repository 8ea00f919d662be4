namespace Engine;

/// <summary>
/// One entry of a tensor index, as in Python's <c>x[0, 1:3, ..., None, mask]</c>: an integer
/// (selects and removes the dimension), a C# range or <see cref="Slice"/>, <see cref="Ellipsis"/>,
/// <see cref="NewAxis"/>, or a tensor (int64 indices or a bool mask: advanced indexing).
/// </summary>
public readonly struct TensorIndex
{
    internal enum Kinds { Int, Slice, Ellipsis, NewAxis, Tensor }

    internal readonly Kinds Kind;
    internal readonly long Value;
    internal readonly long? Start, Stop;
    internal readonly long Step;
    internal readonly Tensor? Tensor;

    TensorIndex(Kinds kind, long value = 0, long? start = null, long? stop = null, long step = 1, Tensor? tensor = null)
    {
        Kind = kind; Value = value; Start = start; Stop = stop; Step = step; Tensor = tensor;
    }

    /// <summary>"..." : as many full slices as needed.</summary>
    public static readonly TensorIndex Ellipsis = new(Kinds.Ellipsis);
    /// <summary>None: inserts a dimension of size 1.</summary>
    public static readonly TensorIndex NewAxis = new(Kinds.NewAxis);
    /// <summary>":" : the whole dimension.</summary>
    public static readonly TensorIndex Colon = new(Kinds.Slice);

    /// <summary>start:stop:step; null ends mean the whole way, negatives count from the end.</summary>
    public static TensorIndex Slice(long? start = null, long? stop = null, long step = 1)
    {
        if (step <= 0) throw new ArgumentOutOfRangeException(nameof(step), "slice step must be positive");
        return new(Kinds.Slice, start: start, stop: stop, step: step);
    }

    public static implicit operator TensorIndex(long i) => new(Kinds.Int, i);
    public static implicit operator TensorIndex(int i) => new(Kinds.Int, i);
    public static implicit operator TensorIndex(Index i) => new(Kinds.Int, i.IsFromEnd ? -i.Value : i.Value);
    public static implicit operator TensorIndex(Tensor t) => new(Kinds.Tensor, tensor: t);

    public static implicit operator TensorIndex(Range r)
    {
        // ^0 as a start is the end itself (an empty slice), not 0: slice clamps a start past the end.
        long? start = r.Start.IsFromEnd ? (r.Start.Value == 0 ? long.MaxValue : -r.Start.Value) : r.Start.Value;
        long? stop = r.End.IsFromEnd ? (r.End.Value == 0 ? null : -r.End.Value) : r.End.Value;
        if (start == 0) start = null;
        return new(Kinds.Slice, start: start, stop: stop);
    }
}
