using Engine.Nn;

namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
    {
        /// <summary>
        /// Margin ranking loss (F.margin_ranking_loss): ℓ = max(0, −y·(x₁ − x₂) + margin), where
        /// y = 1 means x₁ should rank above x₂ and y = −1 below.
        /// </summary>
        /// <remarks>input1, input2 and target must have the same shape. Checked against libtorch's
        /// aten::margin_ranking_loss.</remarks>
        public static Tensor MarginRanking(Tensor input1, Tensor input2, Tensor target, double margin = 0.0,
            Reduction reduction = Reduction.Mean)
        {
            const string name = "MarginRanking";
            CheckReduction(name, reduction);
            CheckFloating(name, input1, "input1");
            CheckFloating(name, input2, "input2");
            CheckSameShape(name, input1, input2, "input1", "input2");
            CheckSameShape(name, input1, target, "input1", "target");
            using var scope = DisposeScope.Begin();
            var losses = (target.Neg() * (input1 - input2) + margin).Clamp(min: 0);
            return scope.MoveOut(Reduce(losses, reduction, name));
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Margin ranking loss (nn.MarginRankingLoss): see <see cref="Functional.MarginRanking"/>.</summary>
    public sealed class MarginRankingLoss : Module<(Tensor Input1, Tensor Input2, Tensor Target), Tensor>
    {
        public double Margin { get; }
        public Reduction Reduction { get; }

        public MarginRankingLoss(double margin = 0.0, Reduction reduction = Reduction.Mean)
        {
            Functional.CheckReduction(TypeName, reduction);
            Margin = margin;
            Reduction = reduction;
        }

        public Tensor Forward(Tensor input1, Tensor input2, Tensor target) =>
            Functional.MarginRanking(input1, input2, target, Margin, Reduction);

        public override Tensor Forward((Tensor Input1, Tensor Input2, Tensor Target) x) => Forward(x.Input1, x.Input2, x.Target);

        /// <summary>Runs the forward and the forward hooks.</summary>
        public Tensor Call(Tensor input1, Tensor input2, Tensor target) => Call((input1, input2, target));
    }
}
