using Engine.Nn;

namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
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
        /// <remarks>Checked against libtorch's aten::binary_cross_entropy_with_logits, values and gradients.</remarks>
        public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null,
            Reduction reduction = Reduction.Mean)
        {
            const string name = "BinaryCrossEntropyWithLogits";
            CheckReduction(name, reduction);
            CheckFloating(name, input, "input (logits)");
            CheckFloating(name, target, "target");
            CheckSameShape(name, input, target);
            CheckElementWeight(name, weight, input, "weight");
            CheckElementWeight(name, posWeight, input, "pos_weight");

            using var scope = DisposeScope.Begin();
            var m = input.Neg().Clamp(min: 0);
            var logSum = (m.Neg().Exp() + (input.Neg() - m).Exp()).Log(); // log(1 + e⁻ˣ) − m
            var negatives = (1 - target) * input;
            Tensor losses;
            if (posWeight is null) losses = negatives + m + logSum;
            else
            {
                var logWeight = (posWeight - 1) * target + 1;
                losses = negatives + logWeight * (logSum + m);
            }
            if (weight is not null) losses = losses * weight;
            return scope.MoveOut(Reduce(losses, reduction, name));
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Binary cross-entropy of logits (nn.BCEWithLogitsLoss): see <see cref="Functional.BinaryCrossEntropyWithLogits"/>.</summary>
    public sealed class BceWithLogitsLoss : Loss
    {
        [Buffer] readonly Tensor? _weight;
        [Buffer] readonly Tensor? _posWeight;

        /// <param name="weight">Per-element weights broadcast to the input (a buffer).</param>
        /// <param name="posWeight">Weight of positive examples, e.g. [C] (a buffer).</param>
        public BceWithLogitsLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean, Tensor? posWeight = null) : base(reduction)
        {
            _weight = weight?.Alias().DetachFromDisposeScope();
            _posWeight = posWeight?.Alias().DetachFromDisposeScope();
        }

        public Tensor? Weight => _weight;
        public Tensor? PosWeight => _posWeight;

        public override Tensor Forward(Tensor input, Tensor target) =>
            Functional.BinaryCrossEntropyWithLogits(input, target, _weight, _posWeight, Reduction);
    }
}
