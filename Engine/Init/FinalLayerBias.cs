namespace Engine.Init;

/// <summary>The output activation the final layer's logits feed, for <see cref="Init.FinalBiasForClassPriors_"/>.</summary>
public enum OutputActivation
{
    /// <summary>One logit per class, mutually exclusive classes: b_k = log p_k.</summary>
    Softmax,
    /// <summary>An independent logit per output (binary or multi-label): b_k = log(p_k / (1 − p_k)).</summary>
    Sigmoid,
}

public static partial class Init
{
    /// <summary>
    /// The recipe's "init well" for regression: the final layer's bias starts at the targets' mean
    /// ("if you are regressing some values that have a mean of 50 then initialize the final bias to
    /// 50"), so the first predictions are the mean rather than 0. <paramref name="targets"/> [N] for
    /// a one-output bias [1] (or a scalar), or [N, outputs] for a bias [outputs]: b = mean over N.
    /// </summary>
    public static Tensor FinalBiasForRegression_(Tensor bias, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(bias);
        ArgumentNullException.ThrowIfNull(targets);
        long outputs = targets.dim() == 1 ? 1 : targets.dim() == 2 ? targets.shape[1] : -1;
        if (outputs < 0 || bias.numel() != outputs || targets.shape[0] == 0)
            throw new ArgumentException(
                $"FinalBiasForRegression_: targets must be [N] or [N, outputs] with N > 0 and the bias hold one value per output (bias [{string.Join(", ", bias.shape)}], targets [{string.Join(", ", targets.shape)}])");
        using (no_grad())
        using (NewDisposeScope())
        {
            var mean = targets.to(ScalarType.Float64).mean([0L]);
            bias.copy_(mean.reshape(bias.shape).to(bias.dtype));
        }
        return bias;
    }

    /// <summary>
    /// The recipe's "init well" for imbalanced classification: set the final bias so the untrained
    /// network predicts the class priors p ("with a 1:10 ratio of positives to negatives, set the
    /// bias on your logits such that your network predicts probability 0.1 at initialization").
    /// Softmax: b_k = log p_k, since softmax(log p) = p; sigmoid: b_k = log(p_k / (1 − p_k)), since
    /// σ(logit p) = p. With the weights small the initial loss is then the priors' entropy
    /// −Σ p_k log p_k instead of log(classes). <paramref name="priors"/> has the bias's shape.
    /// </summary>
    public static Tensor FinalBiasForClassPriors_(Tensor bias, Tensor priors, OutputActivation output = OutputActivation.Softmax)
    {
        ArgumentNullException.ThrowIfNull(bias);
        ArgumentNullException.ThrowIfNull(priors);
        if (!bias.shape.SequenceEqual(priors.shape))
            throw new ArgumentException($"FinalBiasForClassPriors_: priors [{string.Join(", ", priors.shape)}] must have the bias's shape [{string.Join(", ", bias.shape)}]");
        using (no_grad())
        using (NewDisposeScope())
        {
            var p = priors.to(ScalarType.Float64);
            double min = p.min().item<double>(), max = p.max().item<double>();
            if (!(min > 0 && max < 1 || output == OutputActivation.Softmax && p.numel() == 1 && min == 1))
                throw new ArgumentException($"FinalBiasForClassPriors_: every prior must be in (0, 1) (got {min} to {max}); a class with prior 0 would get bias −∞", nameof(priors));
            if (output == OutputActivation.Softmax)
            {
                double sum = p.sum().item<double>();
                if (Math.Abs(sum - 1) > 1e-6)
                    throw new ArgumentException($"FinalBiasForClassPriors_: softmax priors must sum to 1 (got {sum})", nameof(priors));
                bias.copy_(p.log().to(bias.dtype));
            }
            else if (output == OutputActivation.Sigmoid)
                bias.copy_(p.div(p.neg().add(1)).log().to(bias.dtype));
            else
                throw new ArgumentException($"FinalBiasForClassPriors_: unknown output activation {output}", nameof(output));
        }
        return bias;
    }

    /// <summary>Class frequencies of integer <paramref name="labels"/> in [0, classes), float64
    /// [classes]: the priors <see cref="FinalBiasForClassPriors_"/> takes.</summary>
    public static Tensor ClassPriors(Tensor labels, long classes)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (labels.dtype is not (ScalarType.Int64 or ScalarType.Int32 or ScalarType.Int16 or ScalarType.Int8 or ScalarType.Byte) || labels.numel() == 0 || classes < 1)
            throw new ArgumentException($"ClassPriors: labels must be a non-empty integer tensor (got {labels.dtype} [{string.Join(", ", labels.shape)}]) and classes positive (got {classes})");
        using var flat = labels.flatten().to(ScalarType.Int64);
        long lo = flat.min().item<long>(), hi = flat.max().item<long>();
        if (lo < 0 || hi >= classes)
            throw new ArgumentException($"ClassPriors: labels run from {lo} to {hi}, outside [0, {classes})", nameof(labels));
        using var counts = flat.bincount(null, classes);
        return counts.to(ScalarType.Float64).div(flat.numel());
    }
}
