namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
    {
        /// <summary>
        /// Huber loss (F.huber_loss), L2 if small, L1 if large: with d = x − y,
        /// ℓ = ½d² where |d| &lt; δ, else δ·(|d| − ½δ). Continuous with a continuous gradient at |d| = δ.
        /// </summary>
        /// <remarks>Same shapes required. Checked against libtorch's aten::huber_loss.</remarks>
        public static Tensor Huber(Tensor input, Tensor target, double delta = 1.0, Reduction reduction = Reduction.Mean)
        {
            const string name = "Huber";
            CheckRegression(name, input, target, reduction);
            if (!(delta > 0)) throw new ArgumentOutOfRangeException(nameof(delta), delta, $"{name}: delta must be > 0");
            using var scope = DisposeScope.Begin();
            var d = input - target;
            var z = d.Abs();
            var quadratic = d.Square() * 0.5;
            var linear = (z - 0.5 * delta) * delta;
            var losses = quadratic.Where(z < delta, linear);
            return scope.MoveOut(Reduce(losses, reduction, name));
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Huber loss (nn.HuberLoss): see <see cref="Functional.Huber"/>.</summary>
    public sealed class HuberLoss : Loss
    {
        public double Delta { get; }

        public HuberLoss(Reduction reduction = Reduction.Mean, double delta = 1.0) : base(reduction)
        {
            if (!(delta > 0)) throw new ArgumentOutOfRangeException(nameof(delta), delta, "HuberLoss: delta must be > 0");
            Delta = delta;
        }

        public override Tensor Forward(Tensor input, Tensor target) => Functional.Huber(input, target, Delta, Reduction);
    }
}
