namespace Engine
{
    using Engine.Losses;

    // The engine's losses as functions (torch.nn.functional's cross_entropy, mse_loss...), one
    // file per loss, each composed from tensor ops so autograd differentiates it; the module
    // classes beside them (CrossEntropyLoss...) hold the options and call these. Every function
    // checks its inputs and names itself and the shapes when they are wrong.
    public static partial class Functional
    {
        /// <summary>Applies None, Mean or Sum; BatchMean only where the loss allows it.</summary>
        internal static Tensor Reduce(Tensor loss, Reduction reduction, string name) => reduction switch
        {
            Reduction.None => loss.Alias(),
            Reduction.Mean => loss.Mean(),
            Reduction.Sum => loss.Sum(),
            _ => throw BadReduction(name, reduction),
        };

        internal static void CheckReduction(string name, Reduction reduction)
        {
            if (reduction is not (Reduction.None or Reduction.Mean or Reduction.Sum)) throw BadReduction(name, reduction);
        }

        static ArgumentException BadReduction(string name, Reduction reduction) =>
            new($"{name}: reduction {reduction} is not supported here (use None, Mean or Sum; BatchMean is for KlDiv)", nameof(reduction));

        /// <summary>"[3, 5]".</summary>
        internal static string ShapeOf(Tensor t) => "[" + string.Join(", ", t.Shape) + "]";

        internal static string ShapeOf(long[] shape) => "[" + string.Join(", ", shape) + "]";

        internal static void CheckFloating(string name, Tensor t, string what)
        {
            if (!t.IsFloatingPoint)
                throw new ArgumentException($"{name}: {what} must be a floating-point tensor, got {t.DType.TorchName()} {ShapeOf(t)}");
        }

        internal static void CheckSameShape(string name, Tensor input, Tensor target, string inputName = "input", string targetName = "target")
        {
            if (!input.Shape.AsSpan().SequenceEqual(target.Shape))
                throw new ArgumentException(
                    $"{name}: {inputName} {ShapeOf(input)} and {targetName} {ShapeOf(target)} must have the same shape");
        }

        /// <summary>Whether <paramref name="from"/> broadcasts to exactly <paramref name="to"/>.</summary>
        internal static bool BroadcastsTo(long[] from, long[] to)
        {
            if (from.Length > to.Length) return false;
            for (int i = 1; i <= from.Length; i++)
                if (from[^i] != 1 && from[^i] != to[^i]) return false;
            return true;
        }

        /// <summary>Class-index targets: every value in [0, classes) or equal to ignoreIndex.</summary>
        internal static void CheckClassIndices(string name, Tensor input, Tensor target, long classes, long? ignoreIndex)
        {
            if (target.NumEl == 0) return;
            using var scope = DisposeScope.Begin();
            using var noGrad = Torch.NoGrad();
            var bad = (target < 0) | (target >= classes);
            if (ignoreIndex is long ignore) bad = bad & target.Ne(ignore);
            if (!bad.Any().Item<bool>()) return;
            long first = target.MaskedSelect(bad)[0].Item<long>();
            throw new ArgumentException(
                $"{name}: target class {first} is out of range [0, {classes}) for input {ShapeOf(input)}" +
                (ignoreIndex is long i ? $" (ignore_index is {i})" : ""));
        }

        /// <summary>x / max(‖x‖₂, eps) along the last dim (F.normalize).</summary>
        internal static Tensor L2Normalize(Tensor x, double eps = 1e-12)
        {
            using var norm = x.Norm(2, [-1], keepdim: true);
            using var clamped = norm.Clamp(min: eps);
            return x / clamped;
        }
    }
}

namespace Engine.Losses
{
    /// <summary>How a loss turns per-element values into its result (PyTorch's <c>reduction=</c>).
    /// Numbered as ATen's <c>at::Reduction</c>, so a value can be passed to an ATen loss unchanged.</summary>
    public enum Reduction
    {
        /// <summary>The per-element (per-sample) losses, unreduced.</summary>
        None = 0,
        /// <summary>The mean over elements (weighted losses: over the weights, as PyTorch documents per loss).</summary>
        Mean = 1,
        /// <summary>The sum over elements.</summary>
        Sum = 2,
        /// <summary>The sum divided by the batch size, input.size(0): KL divergence only, where it is
        /// the mathematically correct KL of a batch.</summary>
        BatchMean = 3,
    }
}
