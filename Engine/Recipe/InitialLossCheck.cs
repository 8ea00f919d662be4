namespace Engine.Recipe;

public static partial class SanityChecks
{
    /// <summary>
    /// The recipe's "verify loss @ init": the untrained model's mean loss over the first
    /// <paramref name="maxBatches"/> batches (eval mode, no gradient) against its expected value.
    /// <list type="bullet">
    /// <item>Softmax cross entropy over C classes: logits near equal give −log(1/C) = ln C. With the
    /// final bias already set to the log class priors (b_k = log p_k) it is the priors' entropy
    /// H(p) = −Σ p_k log p_k instead; either passes.</item>
    /// <item>Mean squared error: with the final bias at the targets' mean and small final
    /// weights it is Var(y) (mean over outputs of the population variance over the batch);
    /// outputs near 0 give mean(y²) instead, the regression mistake the check catches.</item>
    /// </list>
    /// Passes when |loss − expected| ≤ <paramref name="tolerance"/> × expected. A failure's advice
    /// is the recipe's "init well": Engine.Init's FinalBiasForClassPriors_ / FinalBiasForRegression_.
    /// </summary>
    /// <param name="classes">C for cross entropy; 0 takes the output's width (dim 1).</param>
    public static SanityCheck InitialLoss(nn.Module<Tensor, Tensor> model, Func<Tensor, Tensor, Tensor> loss,
        IEnumerable<(Tensor Input, Tensor Target)> batches, LossKind kind, long classes = 0, double tolerance = 0.25, int maxBatches = 4)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(batches);
        if (!(tolerance > 0) || maxBatches < 1)
            throw new ArgumentException($"SanityChecks.InitialLoss: tolerance must be positive (got {tolerance}) and maxBatches at least 1 (got {maxBatches})");
        bool training = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            double sum = 0; int n = 0;
            var targets = new List<Tensor>();
            long width = -1;
            foreach (var (input, target) in batches)
            {
                var output = model.call(input);
                if (output.dim() >= 2) width = output.shape[1];
                sum += loss(output, target).to(ScalarType.Float64).item<double>();
                targets.Add(target.clone()); // the loader may dispose this batch when it draws the next
                if (++n == maxBatches) break;
            }
            if (n == 0) throw new ArgumentException("SanityChecks.InitialLoss: the batch source yielded no batch", nameof(batches));
            double measured = sum / n;
            var y = cat(targets.ToArray(), 0);

            if (kind == LossKind.SoftmaxCrossEntropy)
            {
                long c = classes > 0 ? classes : width;
                if (c < 2) throw new ArgumentException($"SanityChecks.InitialLoss: cross entropy needs at least 2 classes (got {c}); pass classes or give outputs [N, C]");
                double uniform = Math.Log(c);
                double priorsEntropy = double.NaN;
                if (y.dtype is ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Byte or ScalarType.Int8)
                {
                    var p = Engine.Init.Init.ClassPriors(y, c);
                    priorsEntropy = -where(p.gt(0), p, ones_like(p)).log().mul(p).sum().item<double>();
                }
                bool nearUniform = Math.Abs(measured - uniform) <= tolerance * uniform;
                bool nearPriors = !double.IsNaN(priorsEntropy) && Math.Abs(measured - priorsEntropy) <= tolerance * priorsEntropy;
                bool passed = nearUniform || nearPriors;
                string advice = passed ? "" : measured > uniform
                    ? $"The initial loss {measured:G4} is above ln C = {uniform:G4}: the untrained logits are far from equal (confidently wrong). Set the final layer's bias to the log class priors with Init.FinalBiasForClassPriors_(bias, Init.ClassPriors(labels, C)) (b_k = log p_k) and scale its weights down (e.g. ×0.1); check the loss takes logits, not probabilities."
                    : $"The initial loss {measured:G4} is below what an untrained model can reach (ln C = {uniform:G4}, priors' entropy {priorsEntropy:G4}): look for labels leaking into the inputs or a loss that is not averaged the way you think.";
                return new SanityCheck("initial loss", passed,
                    Numbers(("loss", measured), ("expected_uniform", uniform), ("expected_priors", priorsEntropy), ("classes", c)), advice);
            }
            else
            {
                var yf = y.to(ScalarType.Float64);
                if (yf.dim() == 1) yf = yf.unsqueeze(1);
                yf = yf.reshape(yf.shape[0], -1);
                double variance = yf.sub(yf.mean([0L], keepdim: true)).square().mean().item<double>();
                double meanSquare = yf.square().mean().item<double>();
                bool passed = Math.Abs(measured - variance) <= tolerance * Math.Max(variance, 1e-12);
                string advice = passed ? "" : measured > variance
                    ? $"The initial loss {measured:G4} is well above the targets' variance {variance:G4} (outputs at 0 would give mean(y²) = {meanSquare:G4}): set the final layer's bias to the targets' mean with Init.FinalBiasForRegression_(bias, targets) and scale its weights down, or standardize the targets."
                    : $"The initial loss {measured:G4} is below the targets' variance {variance:G4}, which an untrained model should not beat: look for targets leaking into the inputs.";
                return new SanityCheck("initial loss", passed,
                    Numbers(("loss", measured), ("expected_variance", variance), ("mean_square", meanSquare)), advice);
            }
        }
        finally { model.train(training); }
    }
}
