using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// Huber loss (F.huber_loss), L2 if small, L1 if large: with d = x − y,
        /// ℓ = ½d² where |d| &lt; δ, else δ·(|d| − ½δ). Continuous with a continuous gradient at |d| = δ.
        /// </summary>
        /// <remarks>Same shapes required. Checked against TorchSharp's huber_loss.</remarks>
        public static Tensor Huber(Tensor input, Tensor target, double delta = 1.0, Reduction reduction = Reduction.Mean)
        {
            const string name = "Huber";
            CheckRegression(name, input, target, reduction);
            if (!(delta > 0)) throw new ArgumentOutOfRangeException(nameof(delta), delta, $"{name}: delta must be > 0");
            using var scope = NewDisposeScope();
            var d = input - target;
            var z = d.abs();
            var quadratic = d.square() * 0.5;
            var linear = (z - 0.5 * delta) * delta;
            var losses = where(z.lt(delta), quadratic, linear);
            return Reduce(losses, reduction, name).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Huber loss (nn.HuberLoss): see <see cref="Loss.Huber"/>.</summary>
    public sealed class HuberLoss : LossModule
    {
        public Reduction Reduction { get; }
        public double Delta { get; }

        public HuberLoss(Reduction reduction = Reduction.Mean, double delta = 1.0) : base(nameof(HuberLoss))
        {
            Loss.CheckReduction(nameof(HuberLoss), reduction);
            if (!(delta > 0)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "HuberLoss: delta must be > 0");
            Reduction = reduction;
            Delta = delta;
        }

        public override Tensor forward(Tensor input, Tensor target) => Loss.Huber(input, target, Delta, Reduction);
    }
}
