using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// Cosine embedding loss (F.cosine_embedding_loss), for learning similar/dissimilar pairs:
        /// with cos = x₁·x₂ / √((‖x₁‖² + ε)(‖x₂‖² + ε)), ε = 1e−12,
        /// ℓ = 1 − cos where y = 1, max(0, cos − margin) where y = −1 (and 0 for any other y).
        /// </summary>
        /// <param name="input1">[N, D] (or [D]).</param>
        /// <param name="input2">Same shape as input1.</param>
        /// <param name="target">±1 per pair: [N] (or [] for unbatched inputs).</param>
        /// <param name="margin">In [−1, 1]; 0 to 0.5 is usual.</param>
        /// <remarks>Checked against TorchSharp's cosine_embedding_loss.</remarks>
        public static Tensor CosineEmbedding(Tensor input1, Tensor input2, Tensor target, double margin = 0.0,
            Reduction reduction = Reduction.Mean)
        {
            const string name = "CosineEmbedding";
            CheckReduction(name, reduction);
            CheckFloating(name, input1, "input1");
            CheckFloating(name, input2, "input2");
            CheckSameShape(name, input1, input2, "input1", "input2");
            CheckSameDTypeAndDevice(name, input1, input2, "input2");
            if (!(input1.dim() is 1 or 2) || target.dim() != input1.dim() - 1 || (input1.dim() == 2 && target.shape[0] != input1.shape[0]))
                throw new ArgumentException(
                    $"{name}: expected inputs [N, D] with target [N], or inputs [D] with a 0-d target; got inputs {ShapeOf(input1)} and target {ShapeOf(target)}");
            if (!SameDevice(target, input1))
                throw new ArgumentException($"{name}: target is on {target.device} but the inputs are on {input1.device}");

            using var scope = NewDisposeScope();
            const double eps = 1e-12;
            long dim = input1.dim() - 1;
            var dot = (input1 * input2).sum(dim);
            var squared1 = (input1 * input1).sum(dim) + eps;
            var squared2 = (input2 * input2).sum(dim) + eps;
            var cos = dot / (squared1 * squared2).sqrt();
            var zeros = zeros_like(cos);
            var similar = where(target.eq(1), 1 - cos, zeros);
            var dissimilar = where(target.eq(-1), (cos - margin).clamp_min(0), zeros);
            return Reduce(similar + dissimilar, reduction, name).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Cosine embedding loss (nn.CosineEmbeddingLoss): see <see cref="Loss.CosineEmbedding"/>.</summary>
    public sealed class CosineEmbeddingLoss : nn.Module<Tensor, Tensor, Tensor, Tensor>
    {
        public double Margin { get; }
        public Reduction Reduction { get; }

        public CosineEmbeddingLoss(double margin = 0.0, Reduction reduction = Reduction.Mean) : base(nameof(CosineEmbeddingLoss))
        {
            Loss.CheckReduction(nameof(CosineEmbeddingLoss), reduction);
            Margin = margin;
            Reduction = reduction;
        }

        public override Tensor forward(Tensor input1, Tensor input2, Tensor target) =>
            Loss.CosineEmbedding(input1, input2, target, Margin, Reduction);
    }
}
