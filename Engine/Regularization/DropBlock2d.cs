namespace Engine.Regularization;

/// <summary>
/// DropBlock (Ghiasi, Lin and Le, 2018): "drop contiguous regions" of a feature map (the seeds'
/// table: better than spatial dropout for CNNs, because neighbouring activations carry the same
/// information and single dropped units are reconstructed from their neighbours). Algorithm 1:
/// <code>
/// γ = p / b² · (H·W) / ((H − b + 1)(W − b + 1))        p = 1 − keep_prob, b = block_size
/// seeds  s ~ Bernoulli(γ) at each top-left corner where a whole b×b block fits
/// M = 1 − (s expanded to b×b blocks)                    (one mask per sample and channel)
/// y = x ⊙ M · count(M) / count_ones(M)                 (rescale by the kept fraction)
/// </code>
/// γ is chosen so that the expected number of dropped units, ignoring overlaps of blocks, is p·H·W.
/// Overlapping blocks make the actual drop rate somewhat lower; the exact expected rate is
/// (1/HW)·Σ_(y,x) [1 − (1 − γ)^k(y,x)] with k the number of seed positions whose block covers (y, x)
/// (tested against that over many draws). The rescaling is over the whole tensor, so the total of
/// the activations is preserved exactly. Identity in eval. Checked against a float64 loop
/// written from Algorithm 1.
/// </summary>
public sealed class DropBlock2d : nn.Module<Tensor, Tensor>
{
    double _p;

    /// <param name="p">Drop probability 1 − keep_prob, in [0, 1).</param>
    /// <param name="blockSize">Block side b (≥ 1, at most the feature map's height and width).</param>
    public DropBlock2d(double p = 0.1, int blockSize = 7) : base(nameof(DropBlock2d))
    {
        _p = Checks.DropProbability(nameof(DropBlock2d), p);
        if (blockSize < 1)
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, $"{nameof(DropBlock2d)}: block size {blockSize} must be at least 1");
        BlockSize = blockSize;
    }

    /// <summary>Drop probability; the paper raises it linearly during training, so it may be changed between steps.</summary>
    public double P { get => _p; set => _p = Checks.DropProbability(nameof(DropBlock2d), value); }
    public int BlockSize { get; }

    public override Tensor forward(Tensor input) => Apply(input, P, BlockSize, training);

    /// <summary>γ of Algorithm 1 for an H×W map.</summary>
    public static double Gamma(double p, int blockSize, long height, long width) =>
        p / ((double)blockSize * blockSize) * (height * width) / ((height - blockSize + 1.0) * (width - blockSize + 1.0));

    public static Tensor Apply(Tensor input, double p, int blockSize, bool training = true)
    {
        const string call = nameof(DropBlock2d);
        Checks.DropProbability(call, p);
        Checks.Nchw(call, input);
        long h = input.shape[2], w = input.shape[3];
        if (blockSize < 1 || blockSize > h || blockSize > w)
            throw new ArgumentException($"{call}: block size {blockSize} does not fit the {h}×{w} feature map of input {Checks.Shape(input)}; it must be in [1, min(H, W)]", nameof(blockSize));
        if (!training || p == 0 || input.numel() == 0) return input.alias();
        using var scope = NewDisposeScope();
        double gamma = Gamma(p, blockSize, h, w);
        var seeds = empty([input.shape[0], input.shape[1], h - blockSize + 1, w - blockSize + 1], input.dtype, input.device).bernoulli_(gamma);
        var mask = BlockMask(seeds, blockSize);
        // count(M)/count_ones(M); an all-dropped tensor stays zero instead of 0/0.
        var scale = mask.sum().clamp_min(1).reciprocal().mul_(mask.numel());
        return input.mul(mask.mul_(scale)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// 1 − (each seed at top-left corner (i, j) widened to the block [i, i + b) × [j, j + b)). The
    /// seed map [N, C, H − b + 1, W − b + 1] is zero-padded by b − 1 on every side; a b×b max-pool
    /// with stride 1 then gives, at (y, x), whether any seed in [y − b + 1, y] × [x − b + 1, x] is set.
    /// </summary>
    internal static Tensor BlockMask(Tensor seeds, int blockSize)
    {
        using var scope = NewDisposeScope();
        var padded = nn.functional.pad(seeds, [blockSize - 1, blockSize - 1, blockSize - 1, blockSize - 1]);
        var covered = nn.functional.max_pool2d(padded, [blockSize, blockSize], [1, 1]);
        return covered.neg().add_(1).MoveToOuterDisposeScope();
    }
}
