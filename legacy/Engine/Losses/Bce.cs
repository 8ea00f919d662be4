using Engine.Nn;

namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
    {
        /// <summary>
        /// Binary cross-entropy of probabilities (F.binary_cross_entropy):
        /// ℓ = −w·(y·log x + (1−y)·log(1−x)), each log clamped at −100 as PyTorch does so that x = 0 or 1
        /// gives a finite loss. Mean is the plain mean over elements.
        /// </summary>
        /// <param name="input">Probabilities in [0, 1] (after a sigmoid); prefer
        /// <see cref="BinaryCrossEntropyWithLogits"/>, which is stable and fuses the sigmoid.</param>
        /// <param name="target">Same shape as input, values in [0, 1].</param>
        /// <param name="weight">Optional rescaling of each element, broadcast to the input's shape.</param>
        /// <remarks>Checked against libtorch's aten::binary_cross_entropy. Below x = e⁻¹⁰⁰ (or 1−x),
        /// where the log is clamped, the gradient through the clamped term is 0; libtorch's hand-written
        /// backward divides by max(x(1−x), 1e−12) instead.</remarks>
        public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
        {
            const string name = "BinaryCrossEntropy";
            CheckReduction(name, reduction);
            CheckFloating(name, input, "input (probabilities)");
            CheckFloating(name, target, "target");
            CheckSameShape(name, input, target);
            CheckElementWeight(name, weight, input, "weight");

            using var scope = DisposeScope.Begin();
            using (Torch.NoGrad())
            {
                var outside = (input < 0) | (input > 1);
                if (outside.Any().Item<bool>())
                    throw new ArgumentException(
                        $"{name}: input {ShapeOf(input)} must hold probabilities in [0, 1]; apply Sigmoid first, or use BinaryCrossEntropyWithLogits on the logits");
            }
            var logX = ClampedLog(input);
            var oneMinus = 1 - input;
            var logOneMinusX = ClampedLog(oneMinus);
            var losses = (target - 1) * logOneMinusX - target * logX;
            if (weight is not null) losses = losses * weight;
            return scope.MoveOut(Reduce(losses, reduction, name));
        }

        /// <summary>max(log x, −100) for x ≥ 0, with a finite gradient (0) where the clamp is active, x = 0 included.</summary>
        static Tensor ClampedLog(Tensor x)
        {
            using var positive = x.Clamp(min: SmallestPositive(x.DType));
            using var log = positive.Log();
            return log.Clamp(min: -100);
        }

        /// <summary>The smallest positive (subnormal) value of a floating dtype.</summary>
        static double SmallestPositive(ScalarType dtype) => dtype switch
        {
            ScalarType.Float64 => double.Epsilon,
            ScalarType.Float32 => float.Epsilon,
            ScalarType.Float16 => 5.960464477539063e-8,
            ScalarType.BFloat16 => 9.183549615799121e-41,
            _ => throw new ArgumentException($"no floating dtype {dtype}"),
        };

        /// <summary>An optional per-element weight must broadcast to the input's shape.</summary>
        static void CheckElementWeight(string name, Tensor? weight, Tensor input, string what)
        {
            if (weight is not null && !BroadcastsTo(weight.Shape, input.Shape))
                throw new ArgumentException($"{name}: {what} {ShapeOf(weight)} does not broadcast to the input's shape {ShapeOf(input)}");
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Binary cross-entropy of probabilities (nn.BCELoss): see <see cref="Functional.BinaryCrossEntropy"/>.</summary>
    public sealed class BceLoss : Loss
    {
        [Buffer] readonly Tensor? _weight;

        /// <param name="weight">Per-element weights broadcast to the input; the module keeps its own reference (a buffer).</param>
        public BceLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean) : base(reduction) =>
            _weight = weight?.Alias().DetachFromDisposeScope();

        public Tensor? Weight => _weight;

        public override Tensor Forward(Tensor input, Tensor target) => Functional.BinaryCrossEntropy(input, target, _weight, Reduction);
    }
}
