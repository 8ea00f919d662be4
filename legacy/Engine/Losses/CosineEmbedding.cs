using Engine.Nn;

namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
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
        /// <remarks>Checked against libtorch's aten::cosine_embedding_loss.</remarks>
        public static Tensor CosineEmbedding(Tensor input1, Tensor input2, Tensor target, double margin = 0.0,
            Reduction reduction = Reduction.Mean)
        {
            const string name = "CosineEmbedding";
            CheckReduction(name, reduction);
            CheckFloating(name, input1, "input1");
            CheckFloating(name, input2, "input2");
            CheckSameShape(name, input1, input2, "input1", "input2");
            if (!(input1.Dim is 1 or 2) || target.Dim != input1.Dim - 1 || (input1.Dim == 2 && target.Size(0) != input1.Size(0)))
                throw new ArgumentException(
                    $"{name}: expected inputs [N, D] with target [N], or inputs [D] with a 0-d target; got inputs {ShapeOf(input1)} and target {ShapeOf(target)}");

            using var scope = DisposeScope.Begin();
            const double eps = 1e-12;
            int dim = input1.Dim - 1;
            var dot = (input1 * input2).Sum(dim);
            var squared1 = (input1 * input1).Sum(dim) + eps;
            var squared2 = (input2 * input2).Sum(dim) + eps;
            var cos = dot / (squared1 * squared2).Sqrt();
            var zeros = Torch.ZerosLike(cos);
            var similar = (1 - cos).Where(target.Eq(1), zeros);
            var dissimilar = (cos - margin).Clamp(min: 0).Where(target.Eq(-1), zeros);
            return scope.MoveOut(Reduce(similar + dissimilar, reduction, name));
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Cosine embedding loss (nn.CosineEmbeddingLoss): see <see cref="Functional.CosineEmbedding"/>.</summary>
    public sealed class CosineEmbeddingLoss : Module<(Tensor Input1, Tensor Input2, Tensor Target), Tensor>
    {
        public double Margin { get; }
        public Reduction Reduction { get; }

        public CosineEmbeddingLoss(double margin = 0.0, Reduction reduction = Reduction.Mean)
        {
            Functional.CheckReduction(TypeName, reduction);
            Margin = margin;
            Reduction = reduction;
        }

        public Tensor Forward(Tensor input1, Tensor input2, Tensor target) =>
            Functional.CosineEmbedding(input1, input2, target, Margin, Reduction);

        public override Tensor Forward((Tensor Input1, Tensor Input2, Tensor Target) x) => Forward(x.Input1, x.Input2, x.Target);

        /// <summary>Runs the forward and the forward hooks.</summary>
        public Tensor Call(Tensor input1, Tensor input2, Tensor target) => Call((input1, input2, target));
    }
}
