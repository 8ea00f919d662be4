using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
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
        /// <remarks>Checked against TorchSharp's binary_cross_entropy. Below x = e⁻¹⁰⁰ (or 1−x), where
        /// the log is clamped, the gradient through the clamped term is 0; libtorch's hand-written
        /// backward divides by max(x(1−x), 1e−12) instead.</remarks>
        public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
        {
            const string name = "BinaryCrossEntropy";
            CheckReduction(name, reduction);
            CheckFloating(name, input, "input (probabilities)");
            CheckFloating(name, target, "target");
            CheckSameShape(name, input, target);
            CheckSameDTypeAndDevice(name, input, target, "target");
            CheckElementWeight(name, weight, input, "weight");

            using var scope = NewDisposeScope();
            using (no_grad())
            {
                var outside = input.lt(0).logical_or(input.gt(1));
                if (outside.any().item<bool>())
                    throw new ArgumentException(
                        $"{name}: input {ShapeOf(input)} must hold probabilities in [0, 1]; apply Sigmoid first, or use BinaryCrossEntropyWithLogits on the logits");
            }
            var logX = ClampedLog(input);
            var logOneMinusX = ClampedLog(1 - input);
            var losses = (target - 1) * logOneMinusX - target * logX;
            if (weight is not null) losses = losses * weight;
            return Reduce(losses, reduction, name).MoveToOuterDisposeScope();
        }

        /// <summary>max(log x, −100) for x ≥ 0, with a finite gradient (0) where the clamp is active, x = 0 included.</summary>
        static Tensor ClampedLog(Tensor x)
        {
            using var positive = x.clamp_min(SmallestPositive(x.dtype));
            using var log = positive.log();
            return log.clamp_min(-100);
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
    }

    /// <summary>Binary cross-entropy of probabilities (nn.BCELoss): see <see cref="Loss.BinaryCrossEntropy"/>.</summary>
    public sealed class BceLoss : LossModule
    {
        public Reduction Reduction { get; }

        /// <param name="weight">Per-element weights broadcast to the input; the module keeps its own reference as the buffer "weight".</param>
        public BceLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean) : base(nameof(BceLoss))
        {
            Loss.CheckReduction(nameof(BceLoss), reduction);
            RegisterWeight("weight", weight);
            Reduction = reduction;
        }

        public Tensor? Weight => Buffer("weight");

        public override Tensor forward(Tensor input, Tensor target) => Loss.BinaryCrossEntropy(input, target, Weight, Reduction);
    }
}
