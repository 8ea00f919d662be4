using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// Triplet margin loss (F.triplet_margin_loss, metric learning): with d(u, v) = ‖u − v + ε‖_p,
        /// ℓ = max(0, margin + d(a, p) − d(a, n)): the anchor must be closer to the positive than to
        /// the negative by the margin. With <paramref name="swap"/> (Balntas et al. 2016) the negative
        /// distance is min(d(a, n), d(p, n)).
        /// </summary>
        /// <param name="anchor">[N, D] (or [D]).</param>
        /// <param name="positive">Same shape as anchor.</param>
        /// <param name="negative">Same shape as anchor.</param>
        /// <param name="p">The norm degree, any p &gt; 0 (TorchSharp's triplet_margin_loss takes an integer).</param>
        /// <remarks>Checked against TorchSharp's triplet_margin_loss.</remarks>
        public static Tensor TripletMargin(Tensor anchor, Tensor positive, Tensor negative, double margin = 1.0, double p = 2,
            double eps = 1e-6, bool swap = false, Reduction reduction = Reduction.Mean)
        {
            const string name = "TripletMargin";
            CheckReduction(name, reduction);
            CheckFloating(name, anchor, "anchor");
            CheckSameShape(name, anchor, positive, "anchor", "positive");
            CheckSameShape(name, anchor, negative, "anchor", "negative");
            CheckSameDTypeAndDevice(name, anchor, positive, "positive");
            CheckSameDTypeAndDevice(name, anchor, negative, "negative");
            if (!(anchor.dim() is 1 or 2))
                throw new ArgumentException($"{name}: expected embeddings [N, D] or [D], got anchor {ShapeOf(anchor)}");
            if (!(p > 0)) throw new ArgumentOutOfRangeException(nameof(p), p, $"{name}: the norm degree p must be > 0");

            using var scope = NewDisposeScope();
            var toPositive = PairwiseDistance(anchor, positive, p, eps);
            var toNegative = PairwiseDistance(anchor, negative, p, eps);
            if (swap) toNegative = toNegative.minimum(PairwiseDistance(positive, negative, p, eps));
            var losses = (toPositive - toNegative + margin).clamp_min(0);
            return Reduce(losses, reduction, name).MoveToOuterDisposeScope();
        }

        /// <summary>‖x₁ − x₂ + ε‖_p over the last dim (F.pairwise_distance).</summary>
        static Tensor PairwiseDistance(Tensor x1, Tensor x2, double p, double eps)
        {
            using var diff = x1 - x2;
            using var shifted = diff + eps;
            return linalg.vector_norm(shifted, p, [-1]);
        }
    }

    /// <summary>Triplet margin loss (nn.TripletMarginLoss): see <see cref="Loss.TripletMargin"/>.</summary>
    public sealed class TripletMarginLoss : nn.Module<Tensor, Tensor, Tensor, Tensor>
    {
        public double Margin { get; }
        public double P { get; }
        public double Eps { get; }
        public bool Swap { get; }
        public Reduction Reduction { get; }

        public TripletMarginLoss(double margin = 1.0, double p = 2, double eps = 1e-6, bool swap = false, Reduction reduction = Reduction.Mean)
            : base(nameof(TripletMarginLoss))
        {
            Loss.CheckReduction(nameof(TripletMarginLoss), reduction);
            if (!(p > 0)) throw new ArgumentOutOfRangeException(nameof(p), p, "TripletMarginLoss: the norm degree p must be > 0");
            Margin = margin;
            P = p;
            Eps = eps;
            Swap = swap;
            Reduction = reduction;
        }

        public override Tensor forward(Tensor anchor, Tensor positive, Tensor negative) =>
            Loss.TripletMargin(anchor, positive, negative, Margin, P, Eps, Swap, Reduction);
    }
}
