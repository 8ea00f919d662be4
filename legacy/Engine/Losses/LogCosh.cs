namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
    {
        /// <summary>
        /// Log-cosh loss: ℓ = log(cosh(x − y)), a smooth approximation of Huber (≈ ½d² for small d,
        /// ≈ |d| − log 2 for large d), twice differentiable everywhere; its gradient is tanh(d).
        /// Computed without overflow or cancellation: log(1 + 2·sinh²(|d|/2)) for |d| &lt; 1, and
        /// |d| + log(1 + e^(−2|d|)) − log 2 beyond, where cosh itself would overflow (|d| &gt; 710).
        /// </summary>
        /// <remarks>No libtorch built-in: checked against log(cosh(d)) in float64 with plain loops, its
        /// gradient against tanh(d).</remarks>
        public static Tensor LogCosh(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        {
            const string name = "LogCosh";
            CheckRegression(name, input, target, reduction);
            using var scope = DisposeScope.Begin();
            var z = (input - target).Abs();
            var small = z.Clamp(max: 1);   // keeps the unused branch finite (sinh² overflows past |d| ≈ 1400)
            var halfSinh = (small * 0.5).Sinh();
            var nearZero = (halfSinh.Square() * 2).Log1p();
            var far = z + (z * -2).Exp().Log1p() - Math.Log(2);
            var losses = nearZero.Where(z < 1, far);
            return scope.MoveOut(Reduce(losses, reduction, name));
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Log-cosh loss: see <see cref="Functional.LogCosh"/>.</summary>
    public sealed class LogCoshLoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
    {
        public override Tensor Forward(Tensor input, Tensor target) => Functional.LogCosh(input, target, Reduction);
    }
}
