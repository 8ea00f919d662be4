namespace Engine.Regularization;

/// <summary>
/// Mixup (Zhang et al., 2018), as the seed writes it:
/// <code>
/// λ ~ Beta(α, α),  perm = a random permutation of the batch
/// x̃ = λ·x + (1 − λ)·x[perm]
/// ỹ = λ·y + (1 − λ)·y[perm]        (y one-hot or already soft)
/// </code>
/// Train on (x̃, ỹ) with <c>Loss.CrossEntropy</c>'s probability targets. Call it in the training
/// step only. Draws come from <see cref="Generator"/> when given (deterministic under its seed),
/// else from the default generator. Checked against a float64 reference and by the moments of λ.
/// </summary>
public sealed class Mixup
{
    public Mixup(double alpha = 0.2, long numClasses = 0, Generator? generator = null)
    {
        Mixing.Alpha(nameof(Mixup), alpha);
        Alpha = alpha;
        NumClasses = numClasses;
        Generator = generator;
    }

    public double Alpha { get; }
    /// <summary>C, needed when targets are class indices.</summary>
    public long NumClasses { get; }
    public Generator? Generator { get; }

    public MixedBatch Apply(Tensor input, Tensor target)
    {
        Mixing.Batch(nameof(Mixup), input, target);
        double lambda = Mixing.SampleLambda(Alpha, Generator);
        var perm = Mixing.Permutation(input.shape[0], Generator, input.device);
        return Mix(input, target, lambda, perm, NumClasses);
    }

    /// <summary>The deterministic part: mix with a given λ and permutation.</summary>
    public static MixedBatch Mix(Tensor input, Tensor target, double lambda, Tensor permutation, long numClasses = 0)
    {
        Mixing.Batch(nameof(Mixup), input, target);
        if (!(lambda >= 0 && lambda <= 1))
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, $"{nameof(Mixup)}: λ = {lambda} must be in [0, 1]");
        using var scope = NewDisposeScope();
        var y = Mixing.Probabilities(nameof(Mixup), target, numClasses > 0 ? numClasses : target.dim() == 2 ? target.shape[1] : 0, input.dtype);
        var x = input.mul(lambda).add_(input.index_select(0, permutation).mul(1 - lambda));
        var t = y.mul(lambda).add_(y.index_select(0, permutation).mul(1 - lambda));
        return new MixedBatch(x.MoveToOuterDisposeScope(), t.MoveToOuterDisposeScope(), lambda, lambda, permutation, null);
    }
}
