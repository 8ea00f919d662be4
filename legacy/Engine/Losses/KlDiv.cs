namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
    {
        /// <summary>
        /// Kullback-Leibler divergence (F.kl_div), pointwise KL(target ‖ p) with the input given as
        /// log p: ℓ = y·(log y − x), 0 where y = 0; with <paramref name="logTarget"/> the target is
        /// log y too: ℓ = e^y·(y − x). The VAE and distillation loss.
        /// </summary>
        /// <param name="input">Log-probabilities log p (e.g. LogSoftmax).</param>
        /// <param name="target">Probabilities y (or log y), same shape as input.</param>
        /// <param name="reduction">Mean (over every element, PyTorch's default, not the KL of a
        /// batch), Sum, None, or BatchMean: Sum / input.size(0), the true batch-averaged KL.</param>
        /// <remarks>Same shapes required. Checked against libtorch's aten::kl_div (BatchMean: its Sum
        /// divided by the batch size, as torch.nn.functional.kl_div does).</remarks>
        public static Tensor KlDiv(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, bool logTarget = false)
        {
            const string name = "KlDiv";
            if (reduction != Reduction.BatchMean) CheckReduction(name, reduction);
            CheckFloating(name, input, "input (log-probabilities)");
            CheckFloating(name, target, "target");
            CheckSameShape(name, input, target);
            using var scope = DisposeScope.Begin();
            var pointwise = logTarget
                ? target.Exp() * (target - input)
                : target.Xlogy(target) - target * input;
            Tensor result = reduction switch
            {
                Reduction.BatchMean => input.Dim == 0 ? pointwise.Sum() : pointwise.Sum() / (double)input.Size(0),
                _ => Reduce(pointwise, reduction, name),
            };
            return scope.MoveOut(result);
        }
    }
}

namespace Engine.Losses
{
    /// <summary>Kullback-Leibler divergence (nn.KLDivLoss): see <see cref="Functional.KlDiv"/>.</summary>
    public sealed class KlDivLoss : Loss
    {
        public bool LogTarget { get; }

        /// <param name="reduction">Mean (PyTorch's default), Sum, None or BatchMean (the true KL of a batch).</param>
        public KlDivLoss(Reduction reduction = Reduction.Mean, bool logTarget = false) : base(reduction, allowBatchMean: true) =>
            LogTarget = logTarget;

        public override Tensor Forward(Tensor input, Tensor target) => Functional.KlDiv(input, target, Reduction, LogTarget);
    }
}
