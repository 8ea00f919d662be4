namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
    {
        /// <summary>Mean absolute error, MAE or L1 (F.l1_loss): ℓ = |x − y|. Robust to outliers; its
        /// gradient at x = y is 0 (sign(0)), as PyTorch's.</summary>
        /// <remarks>Same shapes required. Checked against libtorch's aten::l1_loss.</remarks>
        public static Tensor L1(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        {
            const string name = "L1";
            CheckRegression(name, input, target, reduction);
            using var scope = DisposeScope.Begin();
            var losses = (input - target).Abs();
            return scope.MoveOut(Reduce(losses, reduction, name));
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Mean absolute error (nn.L1Loss, MAE): see <see cref="Functional.L1"/>.</summary>
    public sealed class L1Loss(Reduction reduction = Reduction.Mean) : Loss(reduction)
    {
        public override Tensor Forward(Tensor input, Tensor target) => Functional.L1(input, target, Reduction);
    }
}
