using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// Negative log-likelihood of class indices (F.nll_loss): ℓᵢ = −w[yᵢ]·input[i, yᵢ], and 0
        /// where yᵢ = <paramref name="ignoreIndex"/>. Mean is the weighted mean Σℓᵢ / Σ w[yᵢ] over the
        /// targets not ignored (all of them ignored: 0/0, NaN, as PyTorch).
        /// </summary>
        /// <param name="input">Log-probabilities [N, C], [C], or [N, C, d₁, ...] (class dim 1).</param>
        /// <param name="target">int64 class indices [N], [], or [N, d₁, ...].</param>
        /// <param name="weight">Optional per-class weights [C].</param>
        /// <remarks>Checked against TorchSharp's nll_loss and, for ignore_index (which TorchSharp's
        /// nll_loss lacks), against its cross_entropy through a log_softmax.</remarks>
        public static Tensor Nll(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean,
            long ignoreIndex = -100)
        {
            const string name = "Nll";
            CheckReduction(name, reduction);
            CheckFloating(name, input, "input (log-probabilities)");
            int classDim = CheckClassTarget(name, input, target, weight, ignoreIndex);
            using var scope = NewDisposeScope();
            var (loss, _) = NllCore(input, target, weight, reduction, ignoreIndex, classDim);
            return loss.MoveToOuterDisposeScope();
        }

        /// <summary>The reduced NLL, and each target's weight (0 where ignored): the weighted mean's
        /// denominator terms, which label smoothing reuses.</summary>
        static (Tensor Loss, Tensor TargetWeights) NllCore(Tensor logProbs, Tensor target, Tensor? weight, Reduction reduction,
            long ignoreIndex, int classDim)
        {
            var ignored = target.eq(ignoreIndex);
            var safeTarget = target.masked_fill(ignored, 0); // any valid class; its term is zeroed below
            var picked = logProbs.gather(classDim, safeTarget.unsqueeze(classDim)).squeeze(classDim);
            var targetWeights = weight is null
                ? ignored.logical_not().to(logProbs.dtype)
                : weight.index_select(0, safeTarget.reshape(-1)).reshape(target.shape).masked_fill(ignored, 0);
            var losses = picked.neg() * targetWeights;
            var loss = reduction switch
            {
                Reduction.Mean => WeightedMean(losses, targetWeights),
                Reduction.Sum => losses.sum(),
                _ => losses,
            };
            return (loss, targetWeights);
        }

        /// <summary>Σ losses / Σ weights. With every target ignored that is 0/0: NaN, as PyTorch's
        /// value, while the gradient stays 0, as PyTorch's (which never touches ignored entries).</summary>
        static Tensor WeightedMean(Tensor losses, Tensor weights)
        {
            var total = weights.sum();
            var empty = total.eq(0);
            return (losses.sum() / total.masked_fill(empty, 1)).masked_fill(empty, double.NaN);
        }

        /// <summary>Checks a class-index target against input [C], [N, C] or [N, C, d...] and returns the class dim.</summary>
        static int CheckClassTarget(string name, Tensor input, Tensor target, Tensor? weight, long ignoreIndex)
        {
            int classDim = ClassDim(name, input);
            var inShape = input.shape;
            if (target.dtype != ScalarType.Int64)
                throw new ArgumentException(
                    $"{name}: class-index target must be int64 (torch.long), got {DTypeName(target.dtype)} {ShapeOf(target)} for input {ShapeOf(input)}" +
                    (target.is_floating_point() && name == "CrossEntropy" ? $"; a probability target must have the input's shape {ShapeOf(input)}" : ""));
            var expected = inShape.Where((_, d) => d != classDim).ToArray();
            if (!target.shape.AsSpan().SequenceEqual(expected))
                throw new ArgumentException(
                    $"{name}: target {ShapeOf(target)} does not fit input {ShapeOf(input)}: class indices need shape {ShapeOf(expected)} " +
                    $"(the input without its class dim {classDim})" +
                    (name == "CrossEntropy" ? $", class probabilities the input's shape {ShapeOf(input)}" : ""));
            if (!SameDevice(target, input))
                throw new ArgumentException($"{name}: target is on {target.device} but the input is on {input.device}");
            long classes = inShape[classDim];
            CheckWeight(name, input, weight, classes);
            CheckClassIndices(name, input, target, classes, ignoreIndex);
            return classDim;
        }

        /// <summary>1 for [N, C, ...], 0 for an unbatched [C].</summary>
        static int ClassDim(string name, Tensor input)
        {
            if (input.dim() == 0)
                throw new ArgumentException($"{name}: input must have a class dimension ([C], [N, C] or [N, C, d1, ...]), got a 0-d tensor");
            return input.dim() == 1 ? 0 : 1;
        }

        static void CheckWeight(string name, Tensor input, Tensor? weight, long classes)
        {
            if (weight is null) return;
            if (weight.dim() != 1 || weight.shape[0] != classes)
                throw new ArgumentException($"{name}: weight must be 1-d with one entry per class ({classes}), got {ShapeOf(weight)}");
            CheckFloating(name, weight, "weight");
            CheckSameDTypeAndDevice(name, input, weight, "weight");
        }

        /// <summary>A [C] weight shaped to broadcast along the class dim of a rank-<paramref name="rank"/> tensor.</summary>
        static Tensor ClassWeightView(Tensor weight, long rank)
        {
            if (rank <= 1) return weight.alias();
            var shape = Enumerable.Repeat(1L, (int)rank).ToArray();
            shape[1] = weight.shape[0];
            return weight.view(shape);
        }
    }

    /// <summary>Negative log-likelihood loss (nn.NLLLoss): see <see cref="Loss.Nll"/>.</summary>
    public sealed class NllLoss : LossModule
    {
        public Reduction Reduction { get; }
        public long IgnoreIndex { get; }

        /// <param name="weight">Per-class weights [C]; the module keeps its own reference as the buffer "weight".</param>
        public NllLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100) : base(nameof(NllLoss))
        {
            Loss.CheckReduction(nameof(NllLoss), reduction);
            RegisterWeight("weight", weight);
            Reduction = reduction;
            IgnoreIndex = ignoreIndex;
        }

        public Tensor? Weight => Buffer("weight");

        public override Tensor forward(Tensor input, Tensor target) => Loss.Nll(input, target, Weight, Reduction, IgnoreIndex);
    }
}
