using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
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
        /// <remarks>No TorchSharp built-in: checked against the formula in float64 with plain loops, and
        /// its gradients against the same logits (TorchSharp's cosine_similarity) fed to TorchSharp's cross_entropy.</remarks>
        public static Tensor InfoNce(Tensor query, Tensor positiveKey, Tensor? negativeKeys = null, double temperature = 0.1,
            Reduction reduction = Reduction.Mean)
        {
            const string name = "InfoNce";
            CheckReduction(name, reduction);
            CheckFloating(name, query, "query");
            if (query.dim() != 2) throw new ArgumentException($"{name}: query must be [N, D], got {ShapeOf(query)}");
            CheckSameShape(name, query, positiveKey, "query", "positive_key");
            CheckSameDTypeAndDevice(name, query, positiveKey, "positive_key");
            long n = query.shape[0], d = query.shape[1];
            if (negativeKeys is not null)
            {
                if (!((negativeKeys.dim() == 2 && negativeKeys.shape[1] == d) ||
                      (negativeKeys.dim() == 3 && negativeKeys.shape[0] == n && negativeKeys.shape[2] == d)))
                    throw new ArgumentException(
                        $"{name}: negative_keys must be [M, {d}] (shared) or [{n}, M, {d}] (per query), got {ShapeOf(negativeKeys)} for query {ShapeOf(query)}");
                CheckSameDTypeAndDevice(name, query, negativeKeys, "negative_keys");
            }
            if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"{name}: temperature must be > 0");

            using var scope = NewDisposeScope();
            var q = L2Normalize(query);
            var k = L2Normalize(positiveKey);
            Tensor logits, labels;
            if (negativeKeys is null)
            {
                logits = q.matmul(k.t());                         // [N, N], positives on the diagonal
                labels = arange(0, n, dtype: ScalarType.Int64, device: query.device);
            }
            else
            {
                var negatives = L2Normalize(negativeKeys);
                var positive = (q * k).sum(1, keepdim: true);     // [N, 1]
                var negative = negativeKeys.dim() == 2
                    ? q.matmul(negatives.t())                     // [N, M]
                    : (q.unsqueeze(1) * negatives).sum(2);        // [N, M]
                logits = cat([positive, negative], 1);            // the positive is class 0
                labels = zeros([n], ScalarType.Int64, query.device);
            }
            return CrossEntropy(logits / temperature, labels, reduction: reduction).MoveToOuterDisposeScope();
        }
    }

    /// <summary>InfoNCE as a module, <c>forward(query, positiveKey, negativeKeys or null)</c>: see <see cref="Loss.InfoNce"/>.</summary>
    public sealed class InfoNceLoss : nn.Module<Tensor, Tensor, Tensor?, Tensor>
    {
        public double Temperature { get; }
        public Reduction Reduction { get; }

        public InfoNceLoss(double temperature = 0.1, Reduction reduction = Reduction.Mean) : base(nameof(InfoNceLoss))
        {
            Loss.CheckReduction(nameof(InfoNceLoss), reduction);
            if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "InfoNceLoss: temperature must be > 0");
            Temperature = temperature;
            Reduction = reduction;
        }

        public override Tensor forward(Tensor query, Tensor positiveKey, Tensor? negativeKeys) =>
            Loss.InfoNce(query, positiveKey, negativeKeys, Temperature, Reduction);
    }
}
