namespace Engine.Regularization;

/// <summary>A batch after Mixup or CutMix: mixed inputs and soft targets, and how they were made.</summary>
/// <param name="Input">x̃, shaped like the input.</param>
/// <param name="Target">ỹ = λ·y + (1 − λ)·y[perm], soft targets [N, C] for <c>Loss.CrossEntropy</c>'s probability form.</param>
/// <param name="Lambda">λ used for the targets (for CutMix, corrected to the area actually kept).</param>
/// <param name="SampledLambda">λ drawn from Beta(α, α) before any correction.</param>
/// <param name="Permutation">perm: sample i was mixed with sample perm[i].</param>
/// <param name="Box">CutMix's pasted rectangle; null for Mixup.</param>
public sealed record MixedBatch(Tensor Input, Tensor Target, double Lambda, double SampledLambda, Tensor Permutation, CutBox? Box);

/// <summary>A rectangle [Top, Bottom) × [Left, Right) of an H×W image.</summary>
public readonly record struct CutBox(long Top, long Left, long Bottom, long Right)
{
    public long Area => (Bottom - Top) * (Right - Left);
}

/// <summary>Shared by Mixup, CutMix and label smoothing.</summary>
internal static class Mixing
{
    /// <summary>Class indices [N] → one-hot [N, C] of <paramref name="dtype"/>; floating [N, C] passes through.</summary>
    public static Tensor Probabilities(string call, Tensor target, long numClasses, ScalarType dtype)
    {
        if (target.is_floating_point())
        {
            if (target.dim() != 2 || target.shape[1] != numClasses)
                throw new ArgumentException($"{call}: probability target {Checks.Shape(target)} must be [N, {numClasses}]", nameof(target));
            return target.alias();
        }
        if (target.dtype != ScalarType.Int64 || target.dim() != 1)
            throw new ArgumentException($"{call}: target {Checks.Shape(target)} of {target.dtype} must be int64 class indices [N] or probabilities [N, C]", nameof(target));
        if (numClasses < 1)
            throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, $"{call}: numClasses must be at least 1");
        if (target.numel() > 0 && (target.min().item<long>() < 0 || target.max().item<long>() >= numClasses))
            throw new ArgumentException($"{call}: class indices must be in [0, {numClasses})", nameof(target));
        return nn.functional.one_hot(target, numClasses).to(dtype);
    }

    public static void Alpha(string call, double alpha)
    {
        if (!(alpha > 0) || double.IsInfinity(alpha))
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"{call}: alpha = {alpha} must be positive (λ ~ Beta(alpha, alpha))");
    }

    /// <summary>λ ~ Beta(α, α), drawn on the CPU from <paramref name="generator"/> (or the default generator).</summary>
    public static double SampleLambda(double alpha, Generator? generator)
    {
        using var scope = NewDisposeScope();
        var a = tensor(alpha, ScalarType.Float64);
        return distributions.Beta(a, a, generator).sample().item<double>();
    }

    public static Tensor Permutation(long n, Generator? generator, Device device)
    {
        using var scope = NewDisposeScope();
        return randperm(n, generator: generator).to(device).MoveToOuterDisposeScope();
    }

    public static void Batch(string call, Tensor input, Tensor target)
    {
        Checks.Floating(call, input);
        if (input.dim() < 1 || target.dim() < 1 || input.shape[0] != target.shape[0])
            throw new ArgumentException($"{call}: input {Checks.Shape(input)} and target {Checks.Shape(target)} need the same first (batch) dimension", nameof(target));
    }
}
