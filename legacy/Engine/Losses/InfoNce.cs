using Engine.Nn;

namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
    {
        /// <summary>
        /// InfoNCE (van den Oord et al. 2018, "Representation Learning with Contrastive Predictive
        /// Coding"), the contrastive loss of self-supervised learning: each query must pick its
        /// positive key out of a set of candidates,
        /// ℓᵢ = −log( exp(sim(qᵢ, kᵢ⁺)/τ) / Σ_{k ∈ candidates(i)} exp(sim(qᵢ, k)/τ) ),
        /// with sim the cosine similarity and τ the temperature. The candidates are:
        /// <list type="bullet">
        /// <item>no <paramref name="negativeKeys"/>: every positive key of the batch (the other rows are the negatives);</item>
        /// <item><paramref name="negativeKeys"/> [M, D]: the query's positive and these M shared negatives;</item>
        /// <item><paramref name="negativeKeys"/> [N, M, D]: the query's positive and its own M negatives.</item>
        /// </list>
        /// It is <see cref="CrossEntropy"/> over the similarity logits.
        /// </summary>
        /// <param name="query">[N, D].</param>
        /// <param name="positiveKey">[N, D], row i the positive of query i.</param>
        /// <param name="temperature">τ &gt; 0; smaller sharpens the softmax (0.1 is usual).</param>
        /// <remarks>No libtorch built-in: checked against the formula in float64 with plain loops, and
        /// its gradients against the same logits fed to libtorch's aten::cross_entropy_loss.</remarks>
        public static Tensor InfoNce(Tensor query, Tensor positiveKey, Tensor? negativeKeys = null, double temperature = 0.1,
            Reduction reduction = Reduction.Mean)
        {
            const string name = "InfoNce";
            CheckReduction(name, reduction);
            CheckFloating(name, query, "query");
            if (query.Dim != 2) throw new ArgumentException($"{name}: query must be [N, D], got {ShapeOf(query)}");
            CheckSameShape(name, query, positiveKey, "query", "positive_key");
            long n = query.Size(0), d = query.Size(1);
            if (negativeKeys is not null &&
                !((negativeKeys.Dim == 2 && negativeKeys.Size(1) == d) ||
                  (negativeKeys.Dim == 3 && negativeKeys.Size(0) == n && negativeKeys.Size(2) == d)))
                throw new ArgumentException(
                    $"{name}: negative_keys must be [M, {d}] (shared) or [{n}, M, {d}] (per query), got {ShapeOf(negativeKeys)} for query {ShapeOf(query)}");
            if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"{name}: temperature must be > 0");

            using var scope = DisposeScope.Begin();
            var q = L2Normalize(query);
            var k = L2Normalize(positiveKey);
            Tensor logits, labels;
            if (negativeKeys is null)
            {
                logits = q.Matmul(k.T());                         // [N, N], positives on the diagonal
                labels = Torch.Arange(n, device: query.Device);
            }
            else
            {
                var negatives = L2Normalize(negativeKeys);
                var positive = (q * k).Sum(1, keepdim: true);     // [N, 1]
                var negative = negativeKeys.Dim == 2
                    ? q.Matmul(negatives.T())                     // [N, M]
                    : (q.Unsqueeze(1) * negatives).Sum(2);        // [N, M]
                logits = Torch.Cat([positive, negative], 1);      // the positive is class 0
                labels = Torch.Zeros([n], ScalarType.Int64, query.Device);
            }
            return scope.MoveOut(CrossEntropy(logits / temperature, labels, reduction: reduction));
        }
    }
}

namespace Engine.Losses
{
    /// <summary>InfoNCE as a module: see <see cref="Functional.InfoNce"/>.</summary>
    public sealed class InfoNceLoss : Module<(Tensor Query, Tensor PositiveKey, Tensor? NegativeKeys), Tensor>
    {
        public double Temperature { get; }
        public Reduction Reduction { get; }

        public InfoNceLoss(double temperature = 0.1, Reduction reduction = Reduction.Mean)
        {
            Functional.CheckReduction(TypeName, reduction);
            if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "InfoNceLoss: temperature must be > 0");
            Temperature = temperature;
            Reduction = reduction;
        }

        public Tensor Forward(Tensor query, Tensor positiveKey, Tensor? negativeKeys = null) =>
            Functional.InfoNce(query, positiveKey, negativeKeys, Temperature, Reduction);

        public override Tensor Forward((Tensor Query, Tensor PositiveKey, Tensor? NegativeKeys) x) =>
            Forward(x.Query, x.PositiveKey, x.NegativeKeys);

        /// <summary>Runs the forward and the forward hooks.</summary>
        public Tensor Call(Tensor query, Tensor positiveKey, Tensor? negativeKeys = null) => Call((query, positiveKey, negativeKeys));

        public override string ExtraRepr() => $"temperature={Temperature}";
    }
}
