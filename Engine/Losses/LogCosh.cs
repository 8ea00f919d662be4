using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// Log-cosh loss: ℓ = log(cosh(x − y)), a smooth approximation of Huber (≈ ½d² for small d,
        /// ≈ |d| − log 2 for large d), twice differentiable everywhere; its gradient is tanh(d).
        /// Computed without overflow or cancellation: log(1 + 2·sinh²(|d|/2)) for |d| &lt; 1, and
        /// |d| + log(1 + e^(−2|d|)) − log 2 beyond, where cosh itself would overflow (|d| &gt; 710).
        /// </summary>
        /// <remarks>No TorchSharp built-in: checked against log(cosh(d)) in float64 with plain loops, its
        /// gradient against tanh(d).</remarks>
        public static Tensor LogCosh(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
        {
            const string name = "LogCosh";
            CheckRegression(name, input, target, reduction);
            using var scope = NewDisposeScope();
            var z = (input - target).abs();
            var small = z.clamp_max(1);   // keeps the unused branch finite (sinh² overflows past |d| ≈ 1400)
            var halfSinh = (small * 0.5).sinh();
            var nearZero = (halfSinh.square() * 2).log1p();
            var far = z + (z * -2).exp().log1p() - Math.Log(2);
            var losses = where(z.lt(1), nearZero, far);
            return Reduce(losses, reduction, name).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Log-cosh loss: see <see cref="Loss.LogCosh"/>.</summary>
    public sealed class LogCoshLoss : LossModule
    {
        public Reduction Reduction { get; }

        public LogCoshLoss(Reduction reduction = Reduction.Mean) : base(nameof(LogCoshLoss))
        {
            Loss.CheckReduction(nameof(LogCoshLoss), reduction);
            Reduction = reduction;
        }

        public override Tensor forward(Tensor input, Tensor target) => Loss.LogCosh(input, target, Reduction);
    }
}
