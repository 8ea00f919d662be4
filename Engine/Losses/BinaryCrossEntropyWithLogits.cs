using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// Binary cross-entropy of logits (F.binary_cross_entropy_with_logits), sigmoid and BCE in one
        /// numerically stable expression:
        /// ℓ = w·[(1−y)·x + (1 + (p−1)·y)·log(1 + e⁻ˣ)], with log(1 + e⁻ˣ) = m + log(e⁻ᵐ + e⁻ˣ⁻ᵐ),
        /// m = max(−x, 0), which never overflows. p is <paramref name="posWeight"/>, the weight of
        /// positive examples (p &gt; 1 raises recall), per class along the last dim.
        /// </summary>
        /// <param name="input">Logits, any shape.</param>
        /// <param name="target">Same shape as input, values in [0, 1].</param>
        /// <param name="weight">Optional rescaling of each element, broadcast to the input's shape.</param>
        /// <param name="posWeight">Optional weight of positives, broadcast to the input's shape (e.g. [C] for [N, C]).</param>
        /// <remarks>Checked against TorchSharp's binary_cross_entropy_with_logits, values and gradients.</remarks>
        public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null,
            Reduction reduction = Reduction.Mean)
        {
            const string name = "BinaryCrossEntropyWithLogits";
            CheckReduction(name, reduction);
            CheckFloating(name, input, "input (logits)");
            CheckFloating(name, target, "target");
            CheckSameShape(name, input, target);
            CheckSameDTypeAndDevice(name, input, target, "target");
            CheckElementWeight(name, weight, input, "weight");
            CheckElementWeight(name, posWeight, input, "pos_weight");

            using var scope = NewDisposeScope();
            var m = input.neg().clamp_min(0);
            var logSum = (m.neg().exp() + (input.neg() - m).exp()).log(); // log(1 + e⁻ˣ) − m
            var negatives = (1 - target) * input;
            Tensor losses;
            if (posWeight is null) losses = negatives + m + logSum;
            else
            {
                var logWeight = (posWeight - 1) * target + 1;
                losses = negatives + logWeight * (logSum + m);
            }
            if (weight is not null) losses = losses * weight;
            return Reduce(losses, reduction, name).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Binary cross-entropy of logits (nn.BCEWithLogitsLoss): see <see cref="Loss.BinaryCrossEntropyWithLogits"/>.</summary>
    public sealed class BceWithLogitsLoss : LossModule
    {
        public Reduction Reduction { get; }

        /// <param name="weight">Per-element weights broadcast to the input (the buffer "weight").</param>
        /// <param name="posWeight">Weight of positive examples, e.g. [C] (the buffer "pos_weight").</param>
        public BceWithLogitsLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean, Tensor? posWeight = null) : base(nameof(BceWithLogitsLoss))
        {
            Loss.CheckReduction(nameof(BceWithLogitsLoss), reduction);
            RegisterWeight("weight", weight);
            RegisterWeight("pos_weight", posWeight);
            Reduction = reduction;
        }

        public Tensor? Weight => Buffer("weight");
        public Tensor? PosWeight => Buffer("pos_weight");

        public override Tensor forward(Tensor input, Tensor target) =>
            Loss.BinaryCrossEntropyWithLogits(input, target, Weight, PosWeight, Reduction);
    }
}
