namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
    {
        /// <summary>
        /// Smooth L1 (F.smooth_l1_loss, Fast R-CNN): with d = x − y, ℓ = ½d²/β where |d| &lt; β, else
        /// |d| − ½β. Huber divided by β (equal to it at β = δ = 1); β = 0 is plain L1.
        /// </summary>
        /// <remarks>Same shapes required. Checked against libtorch's aten::smooth_l1_loss.</remarks>
        public static Tensor SmoothL1(Tensor input, Tensor target, double beta = 1.0, Reduction reduction = Reduction.Mean)
        {
            const string name = "SmoothL1";
            CheckRegression(name, input, target, reduction);
            if (!(beta >= 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, $"{name}: beta must be >= 0");
            if (beta == 0) return L1(input, target, reduction);
            using var scope = DisposeScope.Begin();
            var d = input - target;
            var z = d.Abs();
            var quadratic = d.Square() * 0.5 / beta;
            var linear = z - 0.5 * beta;
            var losses = quadratic.Where(z < beta, linear);
            return scope.MoveOut(Reduce(losses, reduction, name));
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Smooth L1 (nn.SmoothL1Loss): see <see cref="Functional.SmoothL1"/>.</summary>
    public sealed class SmoothL1Loss : Loss
    {
        public double Beta { get; }

        public SmoothL1Loss(Reduction reduction = Reduction.Mean, double beta = 1.0) : base(reduction)
        {
            if (!(beta >= 0)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "SmoothL1Loss: beta must be >= 0");
            Beta = beta;
        }

        public override Tensor Forward(Tensor input, Tensor target) => Functional.SmoothL1(input, target, Beta, Reduction);
    }
}
