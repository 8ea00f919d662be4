using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>Mean squared error, L2 (F.mse_loss): ℓ = (x − y)². Penalizes large errors heavily.</summary>
        /// <remarks>Input and target must have the same shape (PyTorch broadcasts with a warning; a
        /// [N, 1] against [N] mix-up is the classic bug, so here it is an error). Checked against
        /// TorchSharp's mse_loss.</remarks>
        public static Tensor Mse(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        {
            const string name = "Mse";
            CheckRegression(name, input, target, reduction);
            using var scope = NewDisposeScope();
            var losses = (input - target).square();
            return Reduce(losses, reduction, name).MoveToOuterDisposeScope();
        }

        /// <summary>The checks every elementwise regression loss makes.</summary>
        static void CheckRegression(string name, Tensor input, Tensor target, Reduction reduction)
        {
            CheckReduction(name, reduction);
            CheckFloating(name, input, "input");
            CheckFloating(name, target, "target");
            CheckSameShape(name, input, target);
            CheckSameDTypeAndDevice(name, input, target, "target");
        }
    }

    /// <summary>Mean squared error (nn.MSELoss): see <see cref="Loss.Mse"/>.</summary>
    public sealed class MseLoss : LossModule
    {
        public Reduction Reduction { get; }

        public MseLoss(Reduction reduction = Reduction.Mean) : base(nameof(MseLoss))
        {
            Loss.CheckReduction(nameof(MseLoss), reduction);
            Reduction = reduction;
        }

        public override Tensor forward(Tensor input, Tensor target) => Loss.Mse(input, target, Reduction);
    }
}
