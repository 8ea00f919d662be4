namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
    {
        /// <summary>Mean squared error, L2 (F.mse_loss): ℓ = (x − y)². Penalizes large errors heavily.</summary>
        /// <remarks>Input and target must have the same shape (PyTorch broadcasts with a warning; a
        /// [N, 1] against [N] mix-up is the classic bug, so here it is an error). Checked against
        /// libtorch's aten::mse_loss.</remarks>
        public static Tensor Mse(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        {
            const string name = "Mse";
            CheckRegression(name, input, target, reduction);
            using var scope = DisposeScope.Begin();
            var losses = (input - target).Square();
            return scope.MoveOut(Reduce(losses, reduction, name));
        }

        /// <summary>The checks every elementwise regression loss makes.</summary>
        static void CheckRegression(string name, Tensor input, Tensor target, Reduction reduction)
        {
            CheckReduction(name, reduction);
            CheckFloating(name, input, "input");
            CheckFloating(name, target, "target");
            CheckSameShape(name, input, target);
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Mean squared error (nn.MSELoss): see <see cref="Functional.Mse"/>.</summary>
    public sealed class MseLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
    {
        public override Tensor Forward(Tensor input, Tensor target) => Functional.Mse(input, target, Reduction);
    }
}
