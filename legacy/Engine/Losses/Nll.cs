using Engine.Nn;

namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
    {
        /// <summary>
        /// Negative log-likelihood of class indices (F.nll_loss): ℓᵢ = −w[yᵢ]·input[i, yᵢ], and 0
        /// where yᵢ = <paramref name="ignoreIndex"/>. Mean is the weighted mean Σℓᵢ / Σ w[yᵢ] over the
        /// targets not ignored (all of them ignored: 0/0, NaN, as PyTorch).
        /// </summary>
        /// <param name="input">Log-probabilities [N, C], [C], or [N, C, d₁, ...] (class dim 1).</param>
        /// <param name="target">int64 class indices [N], [], or [N, d₁, ...].</param>
        /// <param name="weight">Optional per-class weights [C].</param>
        /// <remarks>Checked against libtorch's aten::nll_loss_nd.</remarks>
        public static Tensor Nll(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean,
            long ignoreIndex = -100)
        {
            const string name = "Nll";
            CheckReduction(name, reduction);
            CheckFloating(name, input, "input (log-probabilities)");
            int classDim = CheckClassTarget(name, input, target, weight, ignoreIndex);
            using var scope = DisposeScope.Begin();
            var (loss, _) = NllCore(input, target, weight, reduction, ignoreIndex, classDim);
            return scope.MoveOut(loss);
        }

        /// <summary>The reduced NLL, and each target's weight (0 where ignored): the weighted mean's
        /// denominator terms, which label smoothing reuses.</summary>
        static (Tensor Loss, Tensor TargetWeights) NllCore(Tensor logProbs, Tensor target, Tensor? weight, Reduction reduction,
            long ignoreIndex, int classDim)
        {
            var ignored = target.Eq(ignoreIndex);
            var safeTarget = target.MaskedFill(ignored, 0); // any valid class; its term is zeroed below
            var picked = logProbs.Gather(classDim, safeTarget.Unsqueeze(classDim)).Squeeze(classDim);
            var targetWeights = weight is null
                ? ignored.LogicalNot().To(logProbs.DType)
                : weight.IndexSelect(0, safeTarget.Reshape(-1)).Reshape(target.Shape).MaskedFill(ignored, 0);
            var losses = picked.Neg() * targetWeights;
            var loss = reduction switch
            {
                Reduction.Mean => WeightedMean(losses, targetWeights),
                Reduction.Sum => losses.Sum(),
                _ => losses,
            };
            return (loss, targetWeights);
        }

        /// <summary>Σ losses / Σ weights. With every target ignored that is 0/0: NaN, as PyTorch's
        /// value, while the gradient stays 0, as PyTorch's (which never touches ignored entries).</summary>
        static Tensor WeightedMean(Tensor losses, Tensor weights)
        {
            var total = weights.Sum();
            var empty = total.Eq(0);
            return (losses.Sum() / total.MaskedFill(empty, 1)).MaskedFill(empty, double.NaN);
        }

        /// <summary>Checks a class-index target against input [C], [N, C] or [N, C, d...] and returns the class dim.</summary>
        static int CheckClassTarget(string name, Tensor input, Tensor target, Tensor? weight, long ignoreIndex)
        {
            int classDim = ClassDim(name, input);
            var inShape = input.Shape;
            if (target.DType != ScalarType.Int64)
                throw new ArgumentException(
                    $"{name}: class-index target must be int64 (torch.long), got {target.DType.TorchName()} {ShapeOf(target)} for input {ShapeOf(input)}" +
                    (target.IsFloatingPoint && name == "CrossEntropy" ? $"; a probability target must have the input's shape {ShapeOf(input)}" : ""));
            var expected = inShape.Where((_, d) => d != classDim).ToArray();
            if (!target.Shape.AsSpan().SequenceEqual(expected))
                throw new ArgumentException(
                    $"{name}: target {ShapeOf(target)} does not fit input {ShapeOf(input)}: class indices need shape {ShapeOf(expected)} " +
                    $"(the input without its class dim {classDim})" +
                    (name == "CrossEntropy" ? $", class probabilities the input's shape {ShapeOf(input)}" : ""));
            long classes = inShape[classDim];
            CheckWeight(name, weight, classes);
            CheckClassIndices(name, input, target, classes, ignoreIndex);
            return classDim;
        }

        /// <summary>1 for [N, C, ...], 0 for an unbatched [C].</summary>
        static int ClassDim(string name, Tensor input)
        {
            if (input.Dim == 0)
                throw new ArgumentException($"{name}: input must have a class dimension ([C], [N, C] or [N, C, d1, ...]), got a 0-d tensor");
            return input.Dim == 1 ? 0 : 1;
        }

        static void CheckWeight(string name, Tensor? weight, long classes)
        {
            if (weight is not null && (weight.Dim != 1 || weight.Size(0) != classes))
                throw new ArgumentException($"{name}: weight must be 1-d with one entry per class ({classes}), got {ShapeOf(weight)}");
        }

        /// <summary>A [C] weight shaped to broadcast along the class dim of a rank-<paramref name="rank"/> tensor.</summary>
        static Tensor ClassWeightView(Tensor weight, int rank)
        {
            if (rank <= 1) return weight.Alias();
            var shape = Enumerable.Repeat(1L, rank).ToArray();
            shape[1] = weight.Size(0);
            return weight.View(shape);
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Negative log-likelihood loss (nn.NLLLoss): see <see cref="Functional.Nll"/>.</summary>
    public sealed class NllLoss : Loss
    {
        [Buffer] readonly Tensor? _weight;
        public long IgnoreIndex { get; }

        /// <param name="weight">Per-class weights [C]; the module keeps its own reference (a buffer, moved by To()).</param>
        public NllLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100) : base(reduction)
        {
            _weight = weight?.Alias().DetachFromDisposeScope();
            IgnoreIndex = ignoreIndex;
        }

        public Tensor? Weight => _weight;

        public override Tensor Forward(Tensor input, Tensor target) => Functional.Nll(input, target, _weight, Reduction, IgnoreIndex);
    }
}
