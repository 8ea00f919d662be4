using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// Smooth L1 (F.smooth_l1_loss, Fast R-CNN): with d = x − y, ℓ = ½d²/β where |d| &lt; β, else
        /// |d| − ½β. Huber divided by β (equal to it at β = δ = 1); β = 0 is plain L1.
        /// </summary>
        /// <remarks>Same shapes required. Checked against TorchSharp's smooth_l1_loss (β = 0: its l1_loss,
        /// as torch.nn.functional.smooth_l1_loss does).</remarks>
        public static Tensor SmoothL1(Tensor input, Tensor target, double beta = 1.0, Reduction reduction = Reduction.Mean)
        {
            const string name = "SmoothL1";
            CheckRegression(name, input, target, reduction);
            if (!(beta >= 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, $"{name}: beta must be >= 0");
            if (beta == 0) return L1(input, target, reduction);
            using var scope = NewDisposeScope();
            var d = input - target;
            var z = d.abs();
            var quadratic = d.square() * (0.5 / beta);
            var linear = z - 0.5 * beta;
            var losses = where(z.lt(beta), quadratic, linear);
            return Reduce(losses, reduction, name).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Smooth L1 (nn.SmoothL1Loss): see <see cref="Loss.SmoothL1"/>.</summary>
    public sealed class SmoothL1Loss : LossModule
    {
        public Reduction Reduction { get; }
        public double Beta { get; }

        public SmoothL1Loss(Reduction reduction = Reduction.Mean, double beta = 1.0) : base(nameof(SmoothL1Loss))
        {
            Loss.CheckReduction(nameof(SmoothL1Loss), reduction);
            if (!(beta >= 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "SmoothL1Loss: beta must be >= 0");
            Reduction = reduction;
            Beta = beta;
        }

        public override Tensor forward(Tensor input, Tensor target) => Loss.SmoothL1(input, target, Beta, Reduction);
    }
}
