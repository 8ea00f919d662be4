using TorchSharp.Utils;
using TorchSharp.Modules;
using F = TorchSharp.torch.nn.functional;

namespace Engine.Normalization;

/// <summary>
/// Batch normalization (Ioffe and Szegedy, 2015), the base of <see cref="BatchNorm1d"/>,
/// <see cref="BatchNorm2d"/> and <see cref="BatchNorm3d"/>: each channel j is normalized over the
/// batch and every spatial position, as the seed writes it for x : N × D (and N × C × H × W with
/// μ, σ : 1 × C × 1 × 1):
/// <code>
/// μ_j  = 1/m Σ_i x_ij                      per-channel mean      (m = N · spatial size)
/// σ²_j = 1/m Σ_i (x_ij − μ_j)²             per-channel variance  (biased: 1/m)
/// x̂_ij = (x_ij − μ_j) / √(σ²_j + ε)        normalized x
/// y_ij = γ_j · x̂_ij + β_j                  scale and shift (learnable γ, β : D; affine)
/// </code>
/// Training and inference differ ("khi huấn luyện và khi suy diễn làm việc khác nhau"): in training
/// the batch's μ, σ² normalize and the running estimates follow them,
/// <code>
/// running_mean ← (1 − f) · running_mean + f · μ
/// running_var  ← (1 − f) · running_var  + f · σ² · m/(m − 1)     (unbiased, as PyTorch)
/// f = momentum, or 1/num_batches_tracked (cumulative average) when momentum is null
/// </code>
/// and in eval the running estimates replace μ, σ², so the layer is a fixed per-channel linear map
/// (<see cref="BatchNormFolding"/> folds it into the layer before). Without track_running_stats there
/// are no running estimates and batch statistics are used in eval too (PyTorch's rule).
/// <para>
/// The forward pass is the formula above in tensor ops, differentiated by autograd;
/// <see cref="UseFusedKernel"/> switches to libtorch's fused batch_norm kernel (same parameters,
/// same buffers); <see cref="GhostBatchSize"/> normalizes ghost batches instead of the whole batch.
/// Parameters <c>weight</c> (γ), <c>bias</c> (β) and buffers <c>running_mean</c>,
/// <c>running_var</c>, <c>num_batches_tracked</c> (int64) carry PyTorch's names, so state_dicts
/// interoperate with TorchSharp's and PyTorch's BatchNorm. Checked against TorchSharp's
/// nn.BatchNorm1d/2d/3d (outputs, gradients, running statistics) in Engine.Tests/Normalization.
/// </para>
/// </summary>
public abstract class BatchNorm : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")] Parameter? _weight;
    [ComponentName(Name = "bias")] Parameter? _bias;
    [ComponentName(Name = "running_mean")] Tensor? _running_mean;
    [ComponentName(Name = "running_var")] Tensor? _running_var;
    [ComponentName(Name = "num_batches_tracked")] Tensor? _num_batches_tracked;

    protected BatchNorm(string name, long num_features, double eps, double? momentum, bool affine,
        bool track_running_stats, Device? device, ScalarType? dtype) : base(name)
    {
        NormChecks.Positive(name, nameof(num_features), num_features);
        NormChecks.Eps(name, eps);
        if (momentum is { } m && !(m >= 0 && m <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"{name}: momentum must lie in [0, 1] (or be null for a cumulative average)");
        this.num_features = num_features;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
        this.track_running_stats = track_running_stats;
        if (affine)
        {
            _weight = new Parameter(ones(num_features, dtype, device));   // γ = 1, β = 0: identity at start
            _bias = new Parameter(zeros(num_features, dtype, device));
        }
        if (track_running_stats)
        {
            _running_mean = zeros(num_features, dtype, device);
            _running_var = ones(num_features, dtype, device);
            _num_batches_tracked = tensor(0L, ScalarType.Int64, device);
        }
        RegisterComponents();
    }

    public long num_features { get; }
    public double eps { get; set; }
    /// <summary>Weight f of the newest batch in the running estimates; null: cumulative average 1/t.</summary>
    public double? momentum { get; set; }
    public bool affine { get; }
    public bool track_running_stats { get; }

    /// <summary>Use libtorch's fused batch_norm kernel instead of the formula in tensor ops.</summary>
    public bool UseFusedKernel { get; set; }

    /// <summary>
    /// Ghost batch normalization (Hoffer, Hubara and Soudry, 2017): in training, split each batch
    /// into ghost batches of this many samples (the last may be smaller) and normalize each with its
    /// own μ, σ², as if they were separate batches: every ghost batch updates the running estimates
    /// and counts in num_batches_tracked. Keeps the noise of small batches (the recipe's point that
    /// smaller batches regularize more) while computing on a large one. Null: off. Eval ignores it.
    /// </summary>
    public int? GhostBatchSize
    {
        get => _ghostBatchSize;
        set
        {
            if (value is <= 0) throw new ArgumentOutOfRangeException(nameof(value), value, $"{GetName()}: GhostBatchSize must be positive (or null)");
            _ghostBatchSize = value;
        }
    }
    int? _ghostBatchSize;

    /// <summary>γ, present when affine.</summary>
    public Parameter? weight
    {
        get => _weight;
        set { _weight?.Dispose(); _weight = value?.DetachFromDisposeScope() as Parameter; ConditionallyRegisterParameter("weight", _weight); }
    }
    /// <summary>β, present when affine.</summary>
    public Parameter? bias
    {
        get => _bias;
        set { _bias?.Dispose(); _bias = value?.DetachFromDisposeScope() as Parameter; ConditionallyRegisterParameter("bias", _bias); }
    }
    public Tensor? running_mean
    {
        get => _running_mean;
        set { _running_mean?.Dispose(); _running_mean = value?.DetachFromDisposeScope(); ConditionallyRegisterBuffer("running_mean", _running_mean); }
    }
    public Tensor? running_var
    {
        get => _running_var;
        set { _running_var?.Dispose(); _running_var = value?.DetachFromDisposeScope(); ConditionallyRegisterBuffer("running_var", _running_var); }
    }
    public Tensor? num_batches_tracked
    {
        get => _num_batches_tracked;
        set { _num_batches_tracked?.Dispose(); _num_batches_tracked = value?.DetachFromDisposeScope(); ConditionallyRegisterBuffer("num_batches_tracked", _num_batches_tracked); }
    }

    /// <summary>Input ranks this layer accepts and how to say so in an error.</summary>
    protected abstract (long[] Ranks, string Expected) InputRanks { get; }

    /// <summary>Running estimates back to μ = 0, σ² = 1, t = 0.</summary>
    public void reset_running_stats()
    {
        if (!track_running_stats) return;
        using var _ = no_grad();
        _running_mean!.zero_();
        _running_var!.fill_(1);
        _num_batches_tracked!.zero_();
    }

    /// <summary>The input checks every batch norm makes before any native call (not null, one of
    /// <see cref="InputRanks"/>, <c>num_features</c> channels in dim 1, floating point).</summary>
    protected void CheckInput(Tensor input)
    {
        var name = GetName();
        NormChecks.NotNull(name, input);
        var (ranks, expected) = InputRanks;
        NormChecks.Dims(name, input, expected, ranks);
        NormChecks.Channels(name, input, 1, num_features);
        NormChecks.Floating(name, input);
    }

    public override Tensor forward(Tensor input)
    {
        var name = GetName();
        CheckInput(input);

        // Batch statistics in training, and in eval when there are no running estimates.
        var useBatchStats = training || _running_mean is null;
        var ghost = training && GhostBatchSize is { } g && g < input.size(0) ? GhostBatchSize : null;
        // The smallest batch that is normalized on its own: the last ghost batch, or the whole batch.
        var smallest = ghost is { } gs ? (input.size(0) % gs == 0 ? gs : input.size(0) % gs) : input.size(0);
        var valuesPerChannel = smallest * (input.numel() / Math.Max(1, input.size(0) * num_features));
        if (useBatchStats && valuesPerChannel <= 1)
            throw new ArgumentException($"{name}: expected more than 1 value per channel when using batch statistics (training), got input of shape {NormChecks.Shape(input)}{(ghost is null ? "" : $" in ghost batches of {ghost}")}: the batch variance would be 0 and its unbiased estimate undefined", nameof(input));

        if (ghost is null) return Normalize(input, useBatchStats);
        using var scope = NewDisposeScope();
        var parts = input.split(ghost.Value, 0).Select(part => Normalize(part, useBatchStats)).ToArray();
        return cat(parts, 0).MoveToOuterDisposeScope();
    }

    /// <summary>One batch (or ghost batch): statistics, running-estimate update, normalization.</summary>
    Tensor Normalize(Tensor input, bool useBatchStats)
    {
        var valuesPerChannel = input.numel() / num_features;
        // Buffers exist exactly when they are used: updated in training, read in eval.
        var factor = 0.0;
        var update = training && track_running_stats;
        if (update)
        {
            _num_batches_tracked!.add_(1);
            factor = momentum ?? 1.0 / _num_batches_tracked.item<long>();
        }

        if (UseFusedKernel)
            return F.batch_norm(input, _running_mean, _running_var, _weight, _bias, useBatchStats, factor, eps);

        using var scope = NewDisposeScope();
        var shape = NormChecks.ChannelShape(num_features, input.dim());
        Tensor mean, variance;
        if (useBatchStats)
        {
            var dims = Reduced(input.dim());
            mean = input.mean(dims, keepdim: true);                          // μ_j
            variance = input.sub(mean).square().mean(dims, keepdim: true);  // σ²_j, biased
            if (update)
            {
                using var _ = no_grad();
                var unbiased = variance.detach().reshape(num_features).mul((double)valuesPerChannel / (valuesPerChannel - 1));
                _running_mean!.mul_(1 - factor).add_(mean.detach().reshape(num_features), alpha: factor);
                _running_var!.mul_(1 - factor).add_(unbiased, alpha: factor);
            }
        }
        else
        {
            mean = _running_mean!.view(shape);
            variance = _running_var!.view(shape);
        }
        var xhat = input.sub(mean).mul(variance.add(eps).rsqrt());          // x̂ = (x − μ)/√(σ² + ε)
        var y = affine ? xhat.mul(_weight!.view(shape)).add(_bias!.view(shape)) : xhat;   // γ·x̂ + β
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>All dims but the channel dim 1: the batch and the spatial positions.</summary>
    static long[] Reduced(long ndim) => [0, .. NormChecks.Range(2, ndim)];
}
