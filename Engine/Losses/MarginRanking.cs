using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// Margin ranking loss (F.margin_ranking_loss): ℓ = max(0, −y·(x₁ − x₂) + margin), where
        /// y = 1 means x₁ should rank above x₂ and y = −1 below.
        /// </summary>
        /// <remarks>input1, input2 and target must have the same shape. Checked against TorchSharp's
        /// margin_ranking_loss.</remarks>
        public static Tensor MarginRanking(Tensor input1, Tensor input2, Tensor target, double margin = 0.0,
            Reduction reduction = Reduction.Mean)
        {
            const string name = "MarginRanking";
            CheckReduction(name, reduction);
            CheckFloating(name, input1, "input1");
            CheckFloating(name, input2, "input2");
            CheckSameShape(name, input1, input2, "input1", "input2");
            CheckSameShape(name, input1, target, "input1", "target");
            CheckSameDTypeAndDevice(name, input1, input2, "input2");
            CheckSameDTypeAndDevice(name, input1, target, "target");
            using var scope = NewDisposeScope();
            var losses = (target.neg() * (input1 - input2) + margin).clamp_min(0);
            return Reduce(losses, reduction, name).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Margin ranking loss (nn.MarginRankingLoss): see <see cref="Loss.MarginRanking"/>.</summary>
    public sealed class MarginRankingLoss : nn.Module<Tensor, Tensor, Tensor, Tensor>
    {
        public double Margin { get; }
        public Reduction Reduction { get; }

        public MarginRankingLoss(double margin = 0.0, Reduction reduction = Reduction.Mean) : base(nameof(MarginRankingLoss))
        {
            Loss.CheckReduction(nameof(MarginRankingLoss), reduction);
            Margin = margin;
            Reduction = reduction;
        }

        public override Tensor forward(Tensor input1, Tensor input2, Tensor target) =>
            Loss.MarginRanking(input1, input2, target, Margin, Reduction);
    }
}
