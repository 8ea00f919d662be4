using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// Cross-entropy of logits (F.cross_entropy), −Σ y·log ŷ with ŷ = softmax(input) over the
        /// class dim, with PyTorch's semantics exactly:
        /// <list type="bullet">
        /// <item>Class-index target: NLL of log_softmax(input), <c>weight</c> per class, <c>ignoreIndex</c>
        /// skipped, Mean = Σ w[yᵢ]ℓᵢ / Σ w[yᵢ] (the weighted mean).</item>
        /// <item>Label smoothing ε: (1−ε)·NLL + (ε/C)·Σ_c −w_c·log ŷ_c, the second term reduced like the
        /// first (Mean divides it by the same Σ w[yᵢ]).</item>
        /// <item>Probability target (same shape as input, "soft targets"): −Σ_c w_c·y_c·log ŷ_c, the
        /// target first smoothed to y(1−ε) + ε/C; Mean divides by the number of samples N·d₁·… (not by
        /// the weights).</item>
        /// </list>
        /// </summary>
        /// <param name="input">Logits [N, C], [C], or [N, C, d₁, ...] (class dim 1).</param>
        /// <param name="target">int64 class indices [N], [], [N, d₁, ...]; or floating class probabilities shaped like input.</param>
        /// <param name="weight">Optional per-class weights [C].</param>
        /// <remarks>Checked against TorchSharp's cross_entropy (libtorch's aten::cross_entropy_loss), values and gradients.</remarks>
        public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean,
            long ignoreIndex = -100, double labelSmoothing = 0.0)
        {
            const string name = "CrossEntropy";
            CheckReduction(name, reduction);
            CheckFloating(name, input, "input (logits)");
            if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
                throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, $"{name}: label_smoothing must be in [0, 1]");
            int classDim = ClassDim(name, input);
            long classes = input.shape[classDim];
            bool probabilities = input.shape.AsSpan().SequenceEqual(target.shape);
            if (probabilities)
            {
                CheckFloating(name, target, "a probability target (shaped like the input)");
                CheckSameDTypeAndDevice(name, input, target, "the probability target");
                CheckWeight(name, input, weight, classes);
            }
            else CheckClassTarget(name, input, target, weight, ignoreIndex);

            using var scope = NewDisposeScope();
            var logProbs = input.log_softmax(classDim);
            Tensor result;
            if (probabilities)
            {
                var y = labelSmoothing > 0 ? target * (1 - labelSmoothing) + labelSmoothing / classes : target;
                var terms = logProbs * y;
                if (weight is not null) terms = terms * ClassWeightView(weight, input.dim());
                long samples = classes == 0 ? 0 : input.numel() / classes;
                result = reduction switch
                {
                    Reduction.Mean => terms.sum().neg() / (double)samples, // 0 samples: 0/0, NaN, as PyTorch
                    Reduction.Sum => terms.sum().neg(),
                    _ => terms.sum(classDim).neg(),
                };
            }
            else
            {
                var (nll, targetWeights) = NllCore(logProbs, target, weight, reduction, ignoreIndex, classDim);
                if (labelSmoothing == 0) result = nll;
                else
                {
                    var ignored = target.eq(ignoreIndex);
                    var weighted = weight is null ? logProbs : logProbs * ClassWeightView(weight, input.dim());
                    var smooth = weighted.sum(classDim).neg().masked_fill(ignored, 0);
                    var smoothReduced = reduction switch
                    {
                        Reduction.Mean => WeightedMean(smooth, targetWeights),
                        Reduction.Sum => smooth.sum(),
                        _ => smooth,
                    };
                    result = nll * (1 - labelSmoothing) + smoothReduced * (labelSmoothing / classes);
                }
            }
            return result.MoveToOuterDisposeScope();
        }
    }

    /// <summary>Cross-entropy of logits (nn.CrossEntropyLoss): see <see cref="Loss.CrossEntropy"/>.</summary>
    public sealed class CrossEntropyLoss : LossModule
    {
        public Reduction Reduction { get; }
        public long IgnoreIndex { get; }
        public double LabelSmoothing { get; }

        /// <param name="weight">Per-class weights [C]; the module keeps its own reference as the buffer "weight".</param>
        public CrossEntropyLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100, double labelSmoothing = 0.0)
            : base(nameof(CrossEntropyLoss))
        {
            Loss.CheckReduction(nameof(CrossEntropyLoss), reduction);
            if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
                throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "CrossEntropyLoss: label_smoothing must be in [0, 1]");
            RegisterWeight("weight", weight);
            Reduction = reduction;
            IgnoreIndex = ignoreIndex;
            LabelSmoothing = labelSmoothing;
        }

        public Tensor? Weight => Buffer("weight");

        public override Tensor forward(Tensor input, Tensor target) =>
            Loss.CrossEntropy(input, target, Weight, Reduction, IgnoreIndex, LabelSmoothing);
    }
}
