using Engine.Nn;

namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
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
        /// <remarks>No libtorch built-in: checked against the formula in float64 with plain loops, and
        /// its gradients against the same similarities fed to libtorch's aten::cross_entropy_loss.</remarks>
        public static Tensor NtXent(Tensor view1, Tensor view2, double temperature = 0.5, Reduction reduction = Reduction.Mean)
        {
            const string name = "NtXent";
            CheckReduction(name, reduction);
            CheckFloating(name, view1, "view1");
            if (view1.Dim != 2) throw new ArgumentException($"{name}: views must be [N, D], got view1 {ShapeOf(view1)}");
            CheckSameShape(name, view1, view2, "view1", "view2");
            if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"{name}: temperature must be > 0");

            using var scope = DisposeScope.Begin();
            long n = view1.Size(0);
            var z = L2Normalize(Torch.Cat([view1, view2], 0));                        // [2N, D], unit rows
            var self = Torch.Eye(2 * n, dtype: ScalarType.Bool, device: view1.Device);
            var similarities = (z.Matmul(z.T()) / temperature).MaskedFill(self, double.NegativeInfinity); // k is not its own candidate
            var positives = Torch.Cat([Torch.Arange(n, 2 * n, device: view1.Device), Torch.Arange(n, device: view1.Device)]);
            return scope.MoveOut(CrossEntropy(similarities, positives, reduction: reduction));
        }
    }
}

namespace Engine.Losses
{
    /// <summary>NT-Xent (SimCLR) as a module: see <see cref="Functional.NtXent"/>.</summary>
    public sealed class NtXentLoss : Module<(Tensor View1, Tensor View2), Tensor>
    {
        public double Temperature { get; }
        public Reduction Reduction { get; }

        public NtXentLoss(double temperature = 0.5, Reduction reduction = Reduction.Mean)
        {
            Functional.CheckReduction(TypeName, reduction);
            if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "NtXentLoss: temperature must be > 0");
            Temperature = temperature;
            Reduction = reduction;
        }

        public Tensor Forward(Tensor view1, Tensor view2) => Functional.NtXent(view1, view2, Temperature, Reduction);

        public override Tensor Forward((Tensor View1, Tensor View2) x) => Forward(x.View1, x.View2);

        /// <summary>Runs the forward and the forward hooks.</summary>
        public Tensor Call(Tensor view1, Tensor view2) => Call((view1, view2));

        public override string ExtraRepr() => $"temperature={Temperature}";
    }
}
