namespace Engine.Losses;

/// <summary>
/// The engine's losses as functions (torch.nn.functional's cross_entropy, mse_loss...):
/// <c>Loss.CrossEntropy(input, target)</c>, one file per loss, each composed from tensor ops so
/// TorchSharp's autograd differentiates it. The module classes beside them
/// (<see cref="CrossEntropyLoss"/>...) hold the options and call these. Every function checks its
/// inputs before any native call and names itself and the shapes when they are wrong.
/// Reductions are TorchSharp's <see cref="torch.nn.Reduction"/>, so options pass between
/// Engine's and TorchSharp's losses unchanged.
/// </summary>
public static partial class Loss
{
    /// <summary>Applies None, Mean or Sum.</summary>
    internal static Tensor Reduce(Tensor loss, nn.Reduction reduction, string name) => reduction switch
    {
        nn.Reduction.None => loss.alias(),
        nn.Reduction.Mean => loss.mean(),
        nn.Reduction.Sum => loss.sum(),
        _ => throw BadReduction(name, reduction),
    };

    /// <summary>A Reduction cast from an integer may hold any value; reject it before the math.</summary>
    internal static void CheckReduction(string name, nn.Reduction reduction)
    {
        if (reduction is not (nn.Reduction.None or nn.Reduction.Mean or nn.Reduction.Sum)) throw BadReduction(name, reduction);
    }

    static ArgumentException BadReduction(string name, nn.Reduction reduction) =>
        new($"{name}: reduction {reduction} is not supported (use None, Mean or Sum)", nameof(reduction));

    /// <summary>"[3, 5]".</summary>
    internal static string ShapeOf(Tensor t) => ShapeOf(t.shape);

    internal static string ShapeOf(long[] shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>PyTorch's dtype name: float32, int64, bool...</summary>
    internal static string DTypeName(ScalarType dtype) => dtype.ToString().ToLowerInvariant();

    internal static void CheckFloating(string name, Tensor t, string what)
    {
        if (!t.is_floating_point())
            throw new ArgumentException($"{name}: {what} must be a floating-point tensor, got {DTypeName(t.dtype)} {ShapeOf(t)}");
    }

    internal static void CheckSameShape(string name, Tensor input, Tensor target, string inputName = "input", string targetName = "target")
    {
        if (!input.shape.AsSpan().SequenceEqual(target.shape))
            throw new ArgumentException(
                $"{name}: {inputName} {ShapeOf(input)} and {targetName} {ShapeOf(target)} must have the same shape");
    }

    /// <summary>Tensors that meet in one op must share a device and a floating dtype, or libtorch
    /// fails (or silently promotes) deep inside the loss.</summary>
    internal static void CheckSameDTypeAndDevice(string name, Tensor input, Tensor other, string otherName)
    {
        if (other.is_floating_point() && other.dtype != input.dtype)
            throw new ArgumentException(
                $"{name}: {otherName} is {DTypeName(other.dtype)} {ShapeOf(other)} but the input is {DTypeName(input.dtype)} {ShapeOf(input)}; convert one of them");
        if (!SameDevice(other, input))
            throw new ArgumentException($"{name}: {otherName} is on {other.device} but the input is on {input.device}");
    }

    /// <summary>Device is a class: compare its type and index, not the references.</summary>
    internal static bool SameDevice(Tensor a, Tensor b) => a.device_type == b.device_type && a.device_index == b.device_index;

    /// <summary>Whether <paramref name="from"/> broadcasts to exactly <paramref name="to"/>.</summary>
    internal static bool BroadcastsTo(long[] from, long[] to)
    {
        if (from.Length > to.Length) return false;
        for (int i = 1; i <= from.Length; i++)
            if (from[^i] != 1 && from[^i] != to[^i]) return false;
        return true;
    }

    /// <summary>An optional per-element weight must broadcast to the input's shape.</summary>
    internal static void CheckElementWeight(string name, Tensor? weight, Tensor input, string what)
    {
        if (weight is null) return;
        if (!BroadcastsTo(weight.shape, input.shape))
            throw new ArgumentException($"{name}: {what} {ShapeOf(weight)} does not broadcast to the input's shape {ShapeOf(input)}");
        CheckFloating(name, weight, what);
        CheckSameDTypeAndDevice(name, input, weight, what);
    }

    /// <summary>Class-index targets: every value in [0, classes) or equal to ignoreIndex.</summary>
    internal static void CheckClassIndices(string name, Tensor input, Tensor target, long classes, long? ignoreIndex)
    {
        if (target.numel() == 0) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var bad = target.lt(0).logical_or(target.ge(classes));
        if (ignoreIndex is long ignore) bad = bad.logical_and(target.ne(ignore));
        if (!bad.any().item<bool>()) return;
        long first = target.masked_select(bad)[0].item<long>();
        throw new ArgumentException(
            $"{name}: target class {first} is out of range [0, {classes}) for input {ShapeOf(input)}" +
            (ignoreIndex is long i ? $" (ignore_index is {i})" : ""));
    }

    /// <summary>x / max(‖x‖₂, eps) along the last dim (F.normalize).</summary>
    internal static Tensor L2Normalize(Tensor x, double eps = 1e-12)
    {
        using var norm = linalg.vector_norm(x, 2, [-1], keepdim: true);
        using var clamped = norm.clamp_min(eps);
        return x / clamped;
    }
}
