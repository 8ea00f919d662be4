using Engine.Nn;

namespace Engine
{
    using Engine.Losses;

    public static partial class Functional
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
        /// <remarks>Checked against libtorch's aten::ctc_loss: values, and gradients through a
        /// LogSoftmax. The gradient here is the exact derivative with respect to
        /// <paramref name="logProbs"/>; libtorch's CTC backward returns exp(logProbs) more (Graves'
        /// eq. 16, the gradient of the logits before a LogSoftmax), which a LogSoftmax before the loss
        /// cancels. For a sequence of infinite loss without zeroInfinity the gradient here is 0.</remarks>
        public static Tensor Ctc(Tensor logProbs, Tensor targets, long[] inputLengths, long[] targetLengths, long blank = 0,
            Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
        {
            const string name = "Ctc";
            CheckReduction(name, reduction);
            if (logProbs.DType is not (ScalarType.Float32 or ScalarType.Float64))
                throw new ArgumentException($"{name}: log_probs must be float32 or float64, got {logProbs.DType.TorchName()} {ShapeOf(logProbs)}");
            if (logProbs.Dim is not (2 or 3))
                throw new ArgumentException($"{name}: log_probs must be [T, N, C] (or [T, C] for one sequence), got {ShapeOf(logProbs)}");
            bool batched = logProbs.Dim == 3;
            long frames = logProbs.Size(0), batch = batched ? logProbs.Size(1) : 1, classes = logProbs.Size(-1);
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

            using var scope = DisposeScope.Begin();
            var device = logProbs.Device;
            var dtype = logProbs.DType;
            var lp = batched ? logProbs.Alias() : logProbs.Unsqueeze(1);                        // [T, N, C]
            var extendedT = Torch.FromSpan<long>(extended, [batch, width], device);
            var emissions = lp.Gather(2, extendedT.Unsqueeze(0).Expand(frames, batch, width))    // [T, N, L]
                .Clamp(min: LogZero);
            var skipT = Torch.FromSpan<bool>(skip, [batch, width], device);
            var activeFrames = Torch.FromSpan<long>(inputLengths, [batch, 1], device);
            var logZero = Torch.Full([batch, width], LogZero, dtype, device);
            var logZero1 = Torch.Full([batch, 1], LogZero, dtype, device);
            var logZero2 = Torch.Full([batch, 2], LogZero, dtype, device);

            using var firstTwo = Torch.Arange(width, device: device) < 2;
            var alpha = emissions[0].Where(firstTwo, logZero);                                   // α₀
            long lastFrame = inputLengths.Length == 0 ? 0 : inputLengths.Max();
            for (long t = 1; t < lastFrame; t++)
            {
                using var step = DisposeScope.Begin();
                var stay = alpha;
                var fromPrevious = Torch.Cat([logZero1, alpha.Slice(1, 0, width - 1)], 1);
                var fromSkip = width >= 3 ? Torch.Cat([logZero2, alpha.Slice(1, 0, width - 2)], 1).Where(skipT, logZero) : logZero;
                var next = Torch.Stack([stay, fromPrevious, fromSkip]).LogSumExp(0) + emissions[t];
                var active = activeFrames > t;                                                   // sequences still running
                alpha = step.MoveOut(next.Where(active, alpha));
            }

            var endBlank = Torch.FromSpan<long>(targetLengths.Select(s => 2 * s).ToArray(), [batch, 1], device);
            var endLabel = Torch.FromSpan<long>(targetLengths.Select(s => Math.Max(2 * s - 1, 0)).ToArray(), [batch, 1], device);
            var hasLabel = Torch.FromSpan<bool>(targetLengths.Select(s => s > 0).ToArray(), [batch, 1], device);
            var last = alpha.Gather(1, endBlank);
            var lastLabel = alpha.Gather(1, endLabel).Where(hasLabel, logZero1);
            var logLikelihood = Torch.Cat([last, lastLabel], 1).LogSumExp(1);                  // [N]
            if (inputLengths.Contains(0))
            {
                // No frames: the empty target has probability 1, any other 0.
                var noFrames = Torch.FromSpan<bool>(inputLengths.Select(l => l == 0).ToArray(), [batch], device);
                var empty = Torch.FromSpan<double>(targetLengths.Select(s => s == 0 ? 0 : LogZero).ToArray(), [batch], device).To(dtype);
                logLikelihood = empty.Where(noFrames, logLikelihood);
            }
            var possible = logLikelihood > LogZero / 2;
            var nll = logLikelihood.Neg().Where(possible, Torch.FullLike(logLikelihood, zeroInfinity ? 0 : double.PositiveInfinity));

            Tensor result = reduction switch
            {
                Reduction.Mean => (nll / Torch.FromSpan<long>(targetLengths, [batch], device).Clamp(min: 1).To(dtype)).Mean(),
                Reduction.Sum => nll.Sum(),
                _ => batched ? nll : nll.Squeeze(0),
            };
            return scope.MoveOut(result);
        }

        /// <summary>Lengths given as tensors (int64 or int32, any device), as torch.ctc_loss also takes them.</summary>
        public static Tensor Ctc(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths, long blank = 0,
            Reduction reduction = Reduction.Mean, bool zeroInfinity = false) =>
            Ctc(logProbs, targets, Lengths("Ctc", inputLengths, "input_lengths"), Lengths("Ctc", targetLengths, "target_lengths"),
                blank, reduction, zeroInfinity);

        /// <summary>log 0 in the CTC recursion: finite, so logsumexp's gradient stays finite (exp(−1e30 − x) is exactly 0).</summary>
        const double LogZero = -1e30;

        static long[] Lengths(string name, Tensor lengths, string what)
        {
            if (!lengths.DType.IsIntegral() || lengths.Dim > 1)
                throw new ArgumentException($"{name}: {what} must be an integer tensor [N] (or 0-d), got {lengths.DType.TorchName()} {ShapeOf(lengths)}");
            using var asLong = lengths.To(ScalarType.Int64);
            return asLong.ToArray<long>();
        }

        /// <summary>The labels of every target as one host array, with each sequence's offset into it.</summary>
        static long[] CtcLabels(string name, Tensor targets, long[] targetLengths, long maxTarget, bool batched, long batch, long classes,
            out long[] offsets)
        {
            if (!targets.DType.IsIntegral())
                throw new ArgumentException($"{name}: targets must hold integer class indices, got {targets.DType.TorchName()} {ShapeOf(targets)}");
            offsets = new long[batch];
            long needed = targetLengths.Sum();
            if (batched && targets.Dim == 2)
            {
                // Padded [N, S]: row n holds sequence n.
                if (targets.Size(0) != batch || targets.Size(1) < maxTarget)
                    throw new ArgumentException(
                        $"{name}: padded targets {ShapeOf(targets)} must be [{batch}, S] with S at least the longest target length {maxTarget}");
                for (int n = 0; n < batch; n++) offsets[n] = n * targets.Size(1);
            }
            else if (targets.Dim == 1)
            {
                // Concatenated [Σ lengths] (one sequence: [S], S ≥ its length).
                if (targets.NumEl < needed)
                    throw new ArgumentException(
                        $"{name}: targets {ShapeOf(targets)} hold fewer labels than the target lengths add up to ({needed})");
                for (int n = 1; n < batch; n++) offsets[n] = offsets[n - 1] + targetLengths[n - 1];
            }
            else
                throw new ArgumentException(
                    $"{name}: targets must be padded [N, S] or concatenated [sum of target lengths]" + (batched ? "" : " ([S] for one sequence)") +
                    $", got {ShapeOf(targets)}");

            using var asLong = targets.To(ScalarType.Int64);
            var labels = asLong.ToArray<long>();
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
}

namespace Engine.Losses
{
    /// <summary>CTC loss (nn.CTCLoss): see <see cref="Functional.Ctc(Tensor, Tensor, long[], long[], long, Reduction, bool)"/>.</summary>
    public sealed class CtcLoss : Module<(Tensor LogProbs, Tensor Targets, Tensor InputLengths, Tensor TargetLengths), Tensor>
    {
        public long Blank { get; }
        public Reduction Reduction { get; }
        public bool ZeroInfinity { get; }

        public CtcLoss(long blank = 0, Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
        {
            Functional.CheckReduction(TypeName, reduction);
            Blank = blank;
            Reduction = reduction;
            ZeroInfinity = zeroInfinity;
        }

        public Tensor Forward(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths) =>
            Functional.Ctc(logProbs, targets, inputLengths, targetLengths, Blank, Reduction, ZeroInfinity);

        public Tensor Forward(Tensor logProbs, Tensor targets, long[] inputLengths, long[] targetLengths) =>
            Functional.Ctc(logProbs, targets, inputLengths, targetLengths, Blank, Reduction, ZeroInfinity);

        public override Tensor Forward((Tensor LogProbs, Tensor Targets, Tensor InputLengths, Tensor TargetLengths) x) =>
            Forward(x.LogProbs, x.Targets, x.InputLengths, x.TargetLengths);

        /// <summary>Runs the forward and the forward hooks.</summary>
        public Tensor Call(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths) =>
            Call((logProbs, targets, inputLengths, targetLengths));
    }
}
