using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// NT-Xent, the normalized temperature-scaled cross-entropy of SimCLR (Chen et al. 2020).
        /// The two augmented views of N examples make 2N embeddings zₖ; for each k its positive is the
        /// other view of the same example, and the other 2N − 2 embeddings are its negatives:
        /// ℓₖ = −log( exp(sim(zₖ, z₊)/τ) / Σ_{m ≠ k} exp(sim(zₖ, zₘ)/τ) ),
        /// sim the cosine similarity, the loss the mean of ℓₖ over all 2N (None: the 2N values, the
        /// first view's N first).
        /// </summary>
        /// <param name="view1">[N, D], the first view's embeddings (projection-head outputs).</param>
        /// <param name="view2">[N, D], the second view's, row i the same example as view1's row i.</param>
        /// <param name="temperature">τ &gt; 0 (SimCLR: 0.5 on CIFAR-10, 0.1 on ImageNet with large batches).</param>
        /// <remarks>No TorchSharp built-in: checked against the formula in float64 with plain loops, and
        /// its gradients against the same similarities fed to TorchSharp's cross_entropy.</remarks>
        public static Tensor NtXent(Tensor view1, Tensor view2, double temperature = 0.5, Reduction reduction = Reduction.Mean)
        {
            const string name = "NtXent";
            CheckReduction(name, reduction);
            CheckFloating(name, view1, "view1");
            if (view1.dim() != 2) throw new ArgumentException($"{name}: views must be [N, D], got view1 {ShapeOf(view1)}");
            CheckSameShape(name, view1, view2, "view1", "view2");
            CheckSameDTypeAndDevice(name, view1, view2, "view2");
            if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"{name}: temperature must be > 0");

            using var scope = NewDisposeScope();
            long n = view1.shape[0];
            var z = L2Normalize(cat([view1, view2], 0));                                  // [2N, D], unit rows
            var self = eye(2 * n, dtype: ScalarType.Bool, device: view1.device);
            var similarities = (z.matmul(z.t()) / temperature).masked_fill(self, double.NegativeInfinity); // k is not its own candidate
            var positives = cat([arange(n, 2 * n, dtype: ScalarType.Int64, device: view1.device), arange(0, n, dtype: ScalarType.Int64, device: view1.device)]);
            return CrossEntropy(similarities, positives, reduction: reduction).MoveToOuterDisposeScope();
        }
    }

    /// <summary>NT-Xent (SimCLR) as a module, <c>forward(view1, view2)</c>: see <see cref="Loss.NtXent"/>.</summary>
    public sealed class NtXentLoss : LossModule
    {
        public double Temperature { get; }
        public Reduction Reduction { get; }

        public NtXentLoss(double temperature = 0.5, Reduction reduction = Reduction.Mean) : base(nameof(NtXentLoss))
        {
            Loss.CheckReduction(nameof(NtXentLoss), reduction);
            if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "NtXentLoss: temperature must be > 0");
            Temperature = temperature;
            Reduction = reduction;
        }

        public override Tensor forward(Tensor view1, Tensor view2) => Loss.NtXent(view1, view2, Temperature, Reduction);
    }
}
