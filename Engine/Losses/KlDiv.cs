namespace Engine.Losses
{
    /// <summary>How <see cref="Loss.KlDiv"/> reduces: TorchSharp's three reductions plus BatchMean,
    /// the sum divided by the batch size, which is the mathematically correct KL of a batch
    /// (PyTorch's <c>reduction='batchmean'</c>; TorchSharp's kl_div has no such option).</summary>
    public enum KlDivReduction
    {
        /// <summary>The pointwise terms, unreduced.</summary>
        None = 0,
        /// <summary>The mean over every element (PyTorch's default, not the KL of a batch).</summary>
        Mean = 1,
        /// <summary>The sum over every element.</summary>
        Sum = 2,
        /// <summary>The sum divided by input.size(0).</summary>
        BatchMean = 3,
    }

    public static partial class Loss
    {
        /// <summary>
        /// Kullback-Leibler divergence (F.kl_div), pointwise KL(target ‖ p) with the input given as
        /// log p: ℓ = y·(log y − x), 0 where y = 0; with <paramref name="logTarget"/> the target is
        /// log y too: ℓ = e^y·(y − x). The VAE and distillation loss.
        /// </summary>
        /// <param name="input">Log-probabilities log p (e.g. LogSoftmax).</param>
        /// <param name="target">Probabilities y (or log y), same shape as input.</param>
        /// <param name="reduction">Mean (over every element, PyTorch's default), Sum, None, or
        /// BatchMean: Sum / input.size(0), the true batch-averaged KL.</param>
        /// <param name="logTarget">Whether the target is given as log y. False by default, as PyTorch
        /// (TorchSharp's kl_div defaults to true).</param>
        /// <remarks>Same shapes required. Checked against TorchSharp's kl_div (BatchMean: its Sum
        /// divided by the batch size, as torch.nn.functional.kl_div does).</remarks>
        public static Tensor KlDiv(Tensor input, Tensor target, KlDivReduction reduction = KlDivReduction.Mean, bool logTarget = false)
        {
            const string name = "KlDiv";
            if (reduction is not (KlDivReduction.None or KlDivReduction.Mean or KlDivReduction.Sum or KlDivReduction.BatchMean))
                throw new ArgumentException($"{name}: reduction {reduction} is not supported", nameof(reduction));
            CheckFloating(name, input, "input (log-probabilities)");
            CheckFloating(name, target, "target");
            CheckSameShape(name, input, target);
            CheckSameDTypeAndDevice(name, input, target, "target");
            using var scope = NewDisposeScope();
            var pointwise = logTarget
                ? target.exp() * (target - input)
                : target.xlogy(target) - target * input;
            Tensor result = reduction switch
            {
                KlDivReduction.BatchMean => input.dim() == 0 ? pointwise.sum() : pointwise.sum() / (double)input.shape[0],
                KlDivReduction.Mean => pointwise.mean(),
                KlDivReduction.Sum => pointwise.sum(),
                _ => pointwise,
            };
            return result.MoveToOuterDisposeScope();
        }
    }

    /// <summary>Kullback-Leibler divergence (nn.KLDivLoss): see <see cref="Loss.KlDiv"/>.</summary>
    public sealed class KlDivLoss : LossModule
    {
        public KlDivReduction Reduction { get; }
        public bool LogTarget { get; }

        /// <param name="reduction">Mean (PyTorch's default), Sum, None or BatchMean (the true KL of a batch).</param>
        public KlDivLoss(KlDivReduction reduction = KlDivReduction.Mean, bool logTarget = false) : base(nameof(KlDivLoss))
        {
            if (!Enum.IsDefined(reduction)) throw new ArgumentException($"KlDivLoss: reduction {reduction} is not supported", nameof(reduction));
            Reduction = reduction;
            LogTarget = logTarget;
        }

        public override Tensor forward(Tensor input, Tensor target) => Loss.KlDiv(input, target, Reduction, LogTarget);
    }
}
