using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>Mean absolute error, MAE or L1 (F.l1_loss): ℓ = |x − y|. Robust to outliers; its
        /// gradient at x = y is 0 (sign(0)), as PyTorch's.</summary>
        /// <remarks>Same shapes required. Checked against TorchSharp's l1_loss.</remarks>
        public static Tensor L1(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        {
            const string name = "L1";
            CheckRegression(name, input, target, reduction);
            using var scope = NewDisposeScope();
            var losses = (input - target).abs();
            return Reduce(losses, reduction, name).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Mean absolute error (nn.L1Loss, MAE): see <see cref="Loss.L1"/>.</summary>
    public sealed class L1Loss : LossModule
    {
        public Reduction Reduction { get; }

        public L1Loss(Reduction reduction = Reduction.Mean) : base(nameof(L1Loss))
        {
            Loss.CheckReduction(nameof(L1Loss), reduction);
            Reduction = reduction;
        }

        public override Tensor forward(Tensor input, Tensor target) => Loss.L1(input, target, Reduction);
    }
}
