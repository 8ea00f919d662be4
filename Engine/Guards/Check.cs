namespace Engine;

/// <summary>
/// Argument checks that Engine runs before a native call which, given bad input, would take the
/// process down instead of throwing. TorchSharp 0.107 turns most libtorch errors into an
/// <c>ExternalException</c>, but some exports let the C++ exception escape and the process aborts
/// (SIGABRT, exit 134) even inside try/catch: <c>matmul</c> with mismatched shapes, <c>cummax</c> /
/// <c>cummin</c> with a dim out of range, <c>var</c> on an integer tensor,
/// <c>set_num_threads(0)</c>, <c>autograd.grad</c> with an unused input... (DESIGN.md, "Errors").
/// Each check throws an <see cref="ArgumentException"/> whose message names the call, the shapes
/// and what was expected, e.g. <c>Engine.Linear: matmul of [3, 4] by [5, 2]: inner dimensions
/// differ (4 vs 5)</c>.
/// </summary>
public static class Check
{
    /// <summary>"[3, 4]": a shape as error messages write it ("[]" for a scalar).</summary>
    public static string Shape(Tensor t) => Shape(t.shape);

    /// <summary>"[3, 4]".</summary>
    public static string Shape(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    /// <summary>
    /// The shapes torch.matmul accepts: both at least 1-D; the inner dimensions equal (a's last
    /// against b's second-to-last, or b's only one when b is 1-D); the batch dimensions (all but
    /// the last two) broadcastable; the same dtype and device.
    /// <code>
    /// [n] · [n] → []            [m, k] · [k] → [m]         [k] · [k, n] → [n]
    /// [m, k] · [k, n] → [m, n]   [B…, m, k] · [B'…, k, n] → [broadcast(B, B')…, m, n]
    /// </code>
    /// </summary>
    public static void MatmulShapes(string call, Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        long[] sa = a.shape, sb = b.shape;
        string what = $"{call}: matmul of {Shape(sa)} by {Shape(sb)}";
        if (sa.Length == 0 || sb.Length == 0)
            throw new ArgumentException($"{what}: both operands need at least one dimension");
        long inner = sa[^1];
        long other = sb.Length == 1 ? sb[0] : sb[^2];
        if (inner != other)
            throw new ArgumentException($"{what}: inner dimensions differ ({inner} vs {other})");
        if (sa.Length > 2 || sb.Length > 2)
        {
            var batchA = sa.Length > 2 ? sa[..^2] : [];
            var batchB = sb.Length > 2 ? sb[..^2] : [];
            if (!Broadcastable(batchA, batchB, out int at))
                throw new ArgumentException($"{what}: batch dimensions {Shape(batchA)} and {Shape(batchB)} do not broadcast (at dimension {at} from the right)");
        }
        SameDtypeAndDevice(what, a, b);
    }

    /// <summary>Both tensors have exactly the same shape (no broadcasting), e.g. a loss's input and target.</summary>
    public static void SameShape(string call, Tensor a, Tensor b, string aName = "input", string bName = "target")
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!a.shape.AsSpan().SequenceEqual(b.shape))
            throw new ArgumentException($"{call}: {aName} is {Shape(a)} but {bName} is {Shape(b)}; expected the same shape");
    }

    /// <summary>The shapes broadcast against each other (as a + b would).</summary>
    public static void Broadcastable(string call, Tensor a, Tensor b, string aName = "a", string bName = "b")
    {
        if (!Broadcastable(a.shape, b.shape, out int at))
            throw new ArgumentException($"{call}: {aName} {Shape(a)} and {bName} {Shape(b)} do not broadcast (at dimension {at} from the right)");
    }

    /// <summary><paramref name="t"/> has one of the given numbers of dimensions.</summary>
    public static void Dims(string call, Tensor t, string name, params int[] allowed)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (Array.IndexOf(allowed, (int)t.dim()) >= 0) return;
        string expected = allowed.Length == 1 ? $"{allowed[0]}" : string.Join(" or ", allowed);
        throw new ArgumentException($"{call}: {name} is {Shape(t)} ({t.dim()}-D); expected {expected}-D");
    }

    /// <summary>Dimension <paramref name="dim"/> exists in <paramref name="t"/> (negative counts from
    /// the end, as in PyTorch); returns it as a non-negative index. A 0-D tensor accepts 0 and -1.</summary>
    public static long Dim(string call, Tensor t, long dim, string name = "input")
    {
        ArgumentNullException.ThrowIfNull(t);
        long rank = Math.Max(t.dim(), 1);
        if (dim < -rank || dim >= rank)
            throw new ArgumentOutOfRangeException(nameof(dim), dim, $"{call}: dim {dim} is out of range for {name} {Shape(t)} (expected {-rank} to {rank - 1})");
        return dim < 0 ? dim + rank : dim;
    }

    /// <summary><paramref name="t"/> holds floating-point (or complex) numbers.</summary>
    public static void FloatingPoint(string call, Tensor t, string name = "input")
    {
        ArgumentNullException.ThrowIfNull(t);
        if (!t.is_floating_point() && !t.is_complex())
            throw new ArgumentException($"{call}: {name} is {t.dtype} {Shape(t)}; expected a floating-point tensor");
    }

    /// <summary>Both tensors have the same dtype and are on the same device.</summary>
    public static void SameDtypeAndDevice(string call, Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype)
            throw new ArgumentException($"{call}: dtypes differ ({a.dtype} vs {b.dtype})");
        if (a.device_type != b.device_type || a.device_index != b.device_index)
            throw new ArgumentException($"{call}: devices differ ({a.device} vs {b.device})");
    }

    /// <summary>A count (threads, steps...) is at least 1.</summary>
    public static void Positive(string call, long value, string name)
    {
        if (value < 1) throw new ArgumentOutOfRangeException(name, value, $"{call}: {name} must be at least 1, got {value}");
    }

    /// <summary>NumPy broadcasting: from the right, sizes are equal or one of them is 1.
    /// <paramref name="at"/> is the first failing position from the right (1-based).</summary>
    static bool Broadcastable(ReadOnlySpan<long> a, ReadOnlySpan<long> b, out int at)
    {
        for (int i = 1; i <= Math.Min(a.Length, b.Length); i++)
        {
            long x = a[^i], y = b[^i];
            if (x != y && x != 1 && y != 1) { at = i; return false; }
        }
        at = 0;
        return true;
    }
}
