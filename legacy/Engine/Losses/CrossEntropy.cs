using Engine.Nn;

namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
    {
        /// <summary>
        /// Cross-entropy of logits (F.cross_entropy), −Σ y·log ŷ with ŷ = softmax(input) over the
        /// class dim, with PyTorch 1.13's semantics exactly:
        /// <list type="bullet">
        /// <item>Class-index target: NLL of log_softmax(input), <c>weight</c> per class, <c>ignoreIndex</c>
        /// skipped, Mean = Σ w[yᵢ]ℓᵢ / Σ w[yᵢ] (the weighted mean).</item>
        /// <item>Label smoothing ε: (1−ε)·NLL + (ε/C)·Σ_c −w_c·log ŷ_c, the second term reduced like the
        /// first (Mean divides it by the same Σ w[yᵢ]).</item>
        /// <item>Probability target (same shape as input): −Σ_c w_c·y_c·log ŷ_c, the target first smoothed
        /// to y(1−ε) + ε/C; Mean divides by the number of samples N·d₁·… (not by the weights).</item>
        /// </list>
        /// </summary>
        /// <param name="input">Logits [N, C], [C], or [N, C, d₁, ...] (class dim 1).</param>
        /// <param name="target">int64 class indices [N], [], [N, d₁, ...]; or floating class probabilities shaped like input.</param>
        /// <param name="weight">Optional per-class weights [C].</param>
        /// <remarks>Checked against libtorch's aten::cross_entropy_loss, values and gradients.</remarks>
        public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean,
            long ignoreIndex = -100, double labelSmoothing = 0.0)
        {
            const string name = "CrossEntropy";
            CheckReduction(name, reduction);
            CheckFloating(name, input, "input (logits)");
            if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
                throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, $"{name}: label_smoothing must be in [0, 1]");
            int classDim = ClassDim(name, input);
            long classes = input.Size(classDim);
            bool probabilities = input.Shape.AsSpan().SequenceEqual(target.Shape);
            if (probabilities)
            {
                CheckFloating(name, target, "a probability target (shaped like the input)");
                CheckWeight(name, weight, classes);
            }
            else CheckClassTarget(name, input, target, weight, ignoreIndex);

            using var scope = DisposeScope.Begin();
            var logProbs = input.LogSoftmax(classDim);
            Tensor result;
            if (probabilities)
            {
                var y = labelSmoothing > 0 ? target * (1 - labelSmoothing) + labelSmoothing / classes : target;
                var terms = logProbs * y;
                if (weight is not null) terms = terms * ClassWeightView(weight, input.Dim);
                long samples = classes == 0 ? 0 : input.NumEl / classes;
                result = reduction switch
                {
                    Reduction.Mean => terms.Sum().Neg() / (double)samples, // 0 samples: 0/0, NaN, as PyTorch
                    Reduction.Sum => terms.Sum().Neg(),
                    _ => terms.Sum(classDim).Neg(),
                };
            }
            else
            {
                var (nll, targetWeights) = NllCore(logProbs, target, weight, reduction, ignoreIndex, classDim);
                if (labelSmoothing == 0) result = nll;
                else
                {
                    var ignored = target.Eq(ignoreIndex);
                    var weighted = weight is null ? logProbs : logProbs * ClassWeightView(weight, input.Dim);
                    var smooth = weighted.Sum(classDim).Neg().MaskedFill(ignored, 0);
                    var smoothReduced = reduction switch
                    {
                        Reduction.Mean => WeightedMean(smooth, targetWeights),
                        Reduction.Sum => smooth.Sum(),
                        _ => smooth,
                    };
                    result = nll * (1 - labelSmoothing) + smoothReduced * (labelSmoothing / classes);
                }
            }
            return scope.MoveOut(result);
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Cross-entropy of logits (nn.CrossEntropyLoss): see <see cref="Functional.CrossEntropy"/>.</summary>
    public sealed class CrossEntropyLoss : Loss
    {
        [Buffer] readonly Tensor? _weight;
        public long IgnoreIndex { get; }
        public double LabelSmoothing { get; }

        /// <param name="weight">Per-class weights [C]; the module keeps its own reference (a buffer, moved by To()).</param>
        public CrossEntropyLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100, double labelSmoothing = 0.0)
            : base(reduction)
        {
            if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
                throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "CrossEntropyLoss: label_smoothing must be in [0, 1]");
            _weight = weight?.Alias().DetachFromDisposeScope();
            IgnoreIndex = ignoreIndex;
            LabelSmoothing = labelSmoothing;
        }

        public Tensor? Weight => _weight;

        public override Tensor Forward(Tensor input, Tensor target) =>
            Functional.CrossEntropy(input, target, _weight, Reduction, IgnoreIndex, LabelSmoothing);
    }
}
