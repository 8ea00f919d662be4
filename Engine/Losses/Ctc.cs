using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Losses
{
    public static partial class Loss
    {
        /// <summary>
        /// Connectionist temporal classification (Graves et al. 2006; F.ctc_loss), the loss of speech
        /// recognition and OCR, where the alignment of the T output frames to the S target labels is
        /// unknown: −log Σ over every alignment π that collapses to the target (merge repeats, drop
        /// blanks) of Πₜ p(πₜ | t).
        /// <para>The forward algorithm, in log space, one tensor step per frame for the whole batch.
        /// The target is extended with blanks, l' = (b, y₁, b, y₂, …, b), |l'| = 2S + 1, and
        /// α₀(0) = log p(b | 0), α₀(1) = log p(y₁ | 0);
        /// αₜ(s) = log(e^αₜ₋₁(s) + e^αₜ₋₁(s−1) + [l'ₛ ≠ b and l'ₛ ≠ l'ₛ₋₂]·e^αₜ₋₁(s−2)) + log p(l'ₛ | t);
        /// the loss is −log(e^α_{T−1}(2S) + e^α_{T−1}(2S−1)), each sequence read at its own length.</para>
        /// <para>log 0 is a large finite negative number, not −∞, so that autograd through
        /// logsumexp never forms ∞ − ∞; a sequence no alignment can produce (target too long for its
        /// input) gets loss +∞, or 0 with <paramref name="zeroInfinity"/>, as PyTorch.</para>
        /// </summary>
        /// <param name="logProbs">[T, N, C] log-probabilities (LogSoftmax over C), or [T, C] for one sequence.</param>
        /// <param name="targets">Integer labels, padded [N, S], or the N targets concatenated [Σ target_lengths]
        /// (one sequence: [S]).</param>
        /// <param name="inputLengths">Frames of each sequence, each ≤ T.</param>
        /// <param name="targetLengths">Labels of each target.</param>
        /// <param name="blank">The blank label's index.</param>
        /// <param name="reduction">Mean divides each loss by its target length (at least 1) and then
        /// averages over the batch, as PyTorch; Sum adds; None gives [N].</param>
        /// <remarks>Checked against TorchSharp's ctc_loss: values, and gradients through a
        /// LogSoftmax. The gradient here is the exact derivative with respect to
        /// <paramref name="logProbs"/>; libtorch's CTC backward returns exp(logProbs) more (Graves'
        /// eq. 16, the gradient of the logits before a LogSoftmax), which a LogSoftmax before the loss
        /// cancels. For a sequence of infinite loss without zeroInfinity the gradient here is 0.</remarks>
        public static Tensor Ctc(Tensor logProbs, Tensor targets, long[] inputLengths, long[] targetLengths, long blank = 0,
            Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
        {
            const string name = "Ctc";
            CheckReduction(name, reduction);
            if (logProbs.dtype is not (ScalarType.Float32 or ScalarType.Float64))
                throw new ArgumentException($"{name}: log_probs must be float32 or float64, got {DTypeName(logProbs.dtype)} {ShapeOf(logProbs)}");
            if (logProbs.dim() is not (2 or 3))
                throw new ArgumentException($"{name}: log_probs must be [T, N, C] (or [T, C] for one sequence), got {ShapeOf(logProbs)}");
            bool batched = logProbs.dim() == 3;
            long frames = logProbs.shape[0], batch = batched ? logProbs.shape[1] : 1, classes = logProbs.shape[^1];
            if (frames == 0) throw new ArgumentException($"{name}: log_probs {ShapeOf(logProbs)} has no time steps");
            if (blank < 0 || blank >= classes)
                throw new ArgumentOutOfRangeException(nameof(blank), blank, $"{name}: blank must be a class of log_probs {ShapeOf(logProbs)}, in [0, {classes})");
            if (inputLengths.Length != batch || targetLengths.Length != batch)
                throw new ArgumentException(
                    $"{name}: log_probs {ShapeOf(logProbs)} holds {batch} sequence(s) but got {inputLengths.Length} input lengths and {targetLengths.Length} target lengths");
            for (int n = 0; n < batch; n++)
            {
                if (inputLengths[n] < 0 || inputLengths[n] > frames)
                    throw new ArgumentException($"{name}: input length {inputLengths[n]} of sequence {n} is outside [0, {frames}] (T of log_probs {ShapeOf(logProbs)})");
                if (targetLengths[n] < 0)
                    throw new ArgumentException($"{name}: target length {targetLengths[n]} of sequence {n} is negative");
            }
            long maxTarget = targetLengths.Length == 0 ? 0 : targetLengths.Max();
            long[] labels = CtcLabels(name, targets, targetLengths, maxTarget, batched, batch, classes, out var offsets);

            // The blank-extended targets l' [N, L] and where the skip from s−2 is allowed, built on the host.
            int width = (int)(2 * maxTarget + 1);
            var extended = new long[batch * width];
            var skip = new bool[batch * width];
            Array.Fill(extended, blank);
            for (int n = 0; n < batch; n++)
                for (long j = 0; j < targetLengths[n]; j++)
                {
                    long s = 2 * j + 1, label = labels[offsets[n] + j];
                    extended[n * width + s] = label;
                    skip[n * width + s] = j > 0 && label != labels[offsets[n] + j - 1];
                }

            using var scope = NewDisposeScope();
            var device = logProbs.device;
            var dtype = logProbs.dtype;
            var lp = batched ? logProbs.alias() : logProbs.unsqueeze(1);                          // [T, N, C]
            var extendedT = tensor(extended, [batch, width], device: device);
            var emissions = lp.gather(2, extendedT.unsqueeze(0).expand(frames, batch, width))     // [T, N, L]
                .clamp_min(LogZero);
            var skipT = tensor(skip, [batch, width], device: device);
            var activeFrames = tensor(inputLengths, [batch, 1], device: device);
            var logZero = full([batch, width], LogZero, dtype, device);
            var logZero1 = full([batch, 1], LogZero, dtype, device);
            var logZero2 = full([batch, 2], LogZero, dtype, device);

            var firstTwo = arange(0, width, dtype: ScalarType.Int64, device: device).lt(2);
            var alpha = where(firstTwo, emissions[0], logZero);                                  // α₀
            long lastFrame = inputLengths.Length == 0 ? 0 : inputLengths.Max();
            for (long t = 1; t < lastFrame; t++)
            {
                using var step = NewDisposeScope();
                var stay = alpha;
                var fromPrevious = cat([logZero1, alpha.slice(1, 0, width - 1, 1)], 1);
                var fromSkip = width >= 3 ? where(skipT, cat([logZero2, alpha.slice(1, 0, width - 2, 1)], 1), logZero) : logZero;
                var next = stack([stay, fromPrevious, fromSkip]).logsumexp(0) + emissions[t];
                var active = activeFrames.gt(t);                                                 // sequences still running
                alpha = where(active, next, alpha).MoveToOuterDisposeScope();
            }

            var endBlank = tensor(targetLengths.Select(s => 2 * s).ToArray(), [batch, 1], device: device);
            var endLabel = tensor(targetLengths.Select(s => Math.Max(2 * s - 1, 0)).ToArray(), [batch, 1], device: device);
            var hasLabel = tensor(targetLengths.Select(s => s > 0).ToArray(), [batch, 1], device: device);
            var last = alpha.gather(1, endBlank);
            var lastLabel = where(hasLabel, alpha.gather(1, endLabel), logZero1);
            var logLikelihood = cat([last, lastLabel], 1).logsumexp(1);                          // [N]
            if (inputLengths.Contains(0))
            {
                // No frames: the empty target has probability 1, any other 0.
                var noFrames = tensor(inputLengths.Select(l => l == 0).ToArray(), [batch], device: device);
                var empty = tensor(targetLengths.Select(s => s == 0 ? 0 : LogZero).ToArray(), [batch], device: device).to(dtype);
                logLikelihood = where(noFrames, empty, logLikelihood);
            }
            var possible = logLikelihood.gt(LogZero / 2);
            var nll = where(possible, logLikelihood.neg(), full_like(logLikelihood, zeroInfinity ? 0 : double.PositiveInfinity));

            Tensor result = reduction switch
            {
                Reduction.Mean => (nll / tensor(targetLengths, [batch], device: device).clamp_min(1).to(dtype)).mean(),
                Reduction.Sum => nll.sum(),
                _ => batched ? nll : nll.squeeze(0),
            };
            return result.MoveToOuterDisposeScope();
        }

        /// <summary>Lengths given as tensors (int64 or int32, any device), as torch.ctc_loss also takes them.</summary>
        public static Tensor Ctc(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths, long blank = 0,
            Reduction reduction = Reduction.Mean, bool zeroInfinity = false) =>
            Ctc(logProbs, targets, Lengths("Ctc", inputLengths, "input_lengths"), Lengths("Ctc", targetLengths, "target_lengths"),
                blank, reduction, zeroInfinity);

        /// <summary>log 0 in the CTC recursion: finite, so logsumexp's gradient stays finite (exp(−1e30 − x) is exactly 0).</summary>
        const double LogZero = -1e30;

        static bool IsIntegral(ScalarType t) => t is ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte;

        static long[] Lengths(string name, Tensor lengths, string what)
        {
            if (!IsIntegral(lengths.dtype) || lengths.dim() > 1)
                throw new ArgumentException($"{name}: {what} must be an integer tensor [N] (or 0-d), got {DTypeName(lengths.dtype)} {ShapeOf(lengths)}");
            using var scope = NewDisposeScope();
            return lengths.to(ScalarType.Int64).cpu().reshape(-1).data<long>().ToArray();
        }

        /// <summary>The labels of every target as one host array, with each sequence's offset into it.</summary>
        static long[] CtcLabels(string name, Tensor targets, long[] targetLengths, long maxTarget, bool batched, long batch, long classes,
            out long[] offsets)
        {
            if (!IsIntegral(targets.dtype))
                throw new ArgumentException($"{name}: targets must hold integer class indices, got {DTypeName(targets.dtype)} {ShapeOf(targets)}");
            offsets = new long[batch];
            long needed = targetLengths.Sum();
            if (batched && targets.dim() == 2)
            {
                // Padded [N, S]: row n holds sequence n.
                if (targets.shape[0] != batch || targets.shape[1] < maxTarget)
                    throw new ArgumentException(
                        $"{name}: padded targets {ShapeOf(targets)} must be [{batch}, S] with S at least the longest target length {maxTarget}");
                for (int n = 0; n < batch; n++) offsets[n] = n * targets.shape[1];
            }
            else if (targets.dim() == 1)
            {
                // Concatenated [Σ lengths] (one sequence: [S], S ≥ its length).
                if (targets.numel() < needed)
                    throw new ArgumentException(
                        $"{name}: targets {ShapeOf(targets)} hold fewer labels than the target lengths add up to ({needed})");
                for (int n = 1; n < batch; n++) offsets[n] = offsets[n - 1] + targetLengths[n - 1];
            }
            else
                throw new ArgumentException(
                    $"{name}: targets must be padded [N, S] or concatenated [sum of target lengths]" + (batched ? "" : " ([S] for one sequence)") +
                    $", got {ShapeOf(targets)}");

            long[] labels;
            using (NewDisposeScope()) labels = targets.to(ScalarType.Int64).cpu().contiguous().reshape(-1).data<long>().ToArray();
            for (int n = 0; n < batch; n++)
                for (long j = 0; j < targetLengths[n]; j++)
                {
                    long label = labels[offsets[n] + j];
                    if (label < 0 || label >= classes)
                        throw new ArgumentException($"{name}: target class {label} (sequence {n}, position {j}) is out of range [0, {classes})");
                }
            return labels;
        }
    }

    /// <summary>CTC loss (nn.CTCLoss), <c>forward(logProbs, targets, inputLengths, targetLengths)</c>:
    /// see <see cref="Loss.Ctc(Tensor, Tensor, long[], long[], long, Reduction, bool)"/>.</summary>
    public sealed class CtcLoss : nn.Module<Tensor, Tensor, Tensor, Tensor, Tensor>
    {
        public long Blank { get; }
        public Reduction Reduction { get; }
        public bool ZeroInfinity { get; }

        public CtcLoss(long blank = 0, Reduction reduction = Reduction.Mean, bool zeroInfinity = false) : base(nameof(CtcLoss))
        {
            Loss.CheckReduction(nameof(CtcLoss), reduction);
            if (blank < 0) throw new ArgumentOutOfRangeException(nameof(blank), blank, "CtcLoss: blank must be a class index >= 0");
            Blank = blank;
            Reduction = reduction;
            ZeroInfinity = zeroInfinity;
        }

        public override Tensor forward(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths) =>
            Loss.Ctc(logProbs, targets, inputLengths, targetLengths, Blank, Reduction, ZeroInfinity);

        public Tensor forward(Tensor logProbs, Tensor targets, long[] inputLengths, long[] targetLengths) =>
            Loss.Ctc(logProbs, targets, inputLengths, targetLengths, Blank, Reduction, ZeroInfinity);
    }
}
