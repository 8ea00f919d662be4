using TorchSharp.Utils;
using TorchSharp.Modules;
using F = TorchSharp.torch.nn.functional;

namespace Engine.Normalization;

/// <summary>
/// Instance normalization (Ulyanov, Vedaldi and Lempitsky, 2016), the base of
/// <see cref="InstanceNorm1d"/>, <see cref="InstanceNorm2d"/> and <see cref="InstanceNorm3d"/>: each
/// channel of each sample is normalized over its own spatial positions. The seed's "Instance
/// Normalization for convolutional networks", x : N × C × H × W, μ, σ : N × C × 1 × 1,
/// γ, β : 1 × C × 1 × 1:
/// <code>
/// μ_nc  = 1/L Σ_l x_ncl                      (L = spatial size)
/// σ²_nc = 1/L Σ_l (x_ncl − μ_nc)²            (biased)
/// y_ncl = γ_c · (x_ncl − μ_nc) / √(σ²_nc + ε) + β_c
/// </code>
/// "Same behavior at train / test" by default (track_running_stats false, affine false, as PyTorch).
/// With track_running_stats, training also keeps per-channel running estimates averaged over the
/// batch's instances, running_mean ← (1 − m)·running_mean + m·mean_n μ_nc and running_var ←
/// (1 − m)·running_var + m·mean_n σ²_nc·L/(L − 1), which eval then uses instead of μ_nc, σ²_nc;
/// num_batches_tracked is kept for state_dict compatibility but, as in PyTorch, never advances.
/// Unbatched (C, *) inputs are accepted.
/// <para>
/// The forward pass is the formula in tensor ops; <see cref="UseFusedKernel"/> switches to
/// libtorch's instance_norm. Checked against TorchSharp's nn.InstanceNorm1d/2d/3d in
/// Engine.Tests/Normalization.
/// </para>
/// </summary>
public abstract class InstanceNorm : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")] Parameter? _weight;
    [ComponentName(Name = "bias")] Parameter? _bias;
    [ComponentName(Name = "running_mean")] Tensor? _running_mean;
    [ComponentName(Name = "running_var")] Tensor? _running_var;
    [ComponentName(Name = "num_batches_tracked")] Tensor? _num_batches_tracked;

    protected InstanceNorm(string name, long num_features, double eps, double momentum, bool affine,
        bool track_running_stats, Device? device, ScalarType? dtype) : base(name)
    {
        NormChecks.Positive(name, nameof(num_features), num_features);
        NormChecks.Eps(name, eps);
        if (!(momentum >= 0 && momentum <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, $"{name}: momentum must lie in [0, 1]");
        this.num_features = num_features;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
        this.track_running_stats = track_running_stats;
        if (affine)
        {
            _weight = new Parameter(ones(num_features, dtype, device));
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
    public double momentum { get; set; }
    public bool affine { get; }
    public bool track_running_stats { get; }

    /// <summary>Use libtorch's fused instance_norm kernel instead of the formula in tensor ops.</summary>
    public bool UseFusedKernel { get; set; }

    public Parameter? weight
    {
        get => _weight;
        set { _weight?.Dispose(); _weight = value?.DetachFromDisposeScope() as Parameter; ConditionallyRegisterParameter("weight", _weight); }
    }
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

    /// <summary>Number of spatial dims: 1, 2 or 3.</summary>
    protected abstract int SpatialDims { get; }

    public override Tensor forward(Tensor input)
    {
        var name = GetName();
        NormChecks.NotNull(name, input);
        var batched = SpatialDims + 2;
        var spatial = SpatialDims switch { 1 => "L", 2 => "H, W", _ => "D, H, W" };
        NormChecks.Dims(name, input, $"a {batched - 1}D (C, {spatial}) or {batched}D (N, C, {spatial}) input", batched - 1, batched);
        var channelDim = (int)input.dim() - SpatialDims - 1;
        NormChecks.Channels(name, input, channelDim, num_features);
        NormChecks.Floating(name, input);

        var useInputStats = training || !track_running_stats;
        var spatialSize = 1L;
        for (var d = channelDim + 1; d < input.dim(); d++) spatialSize *= input.size(d);
        if (useInputStats && spatialSize <= 1)
            throw new ArgumentException($"{name}: expected more than 1 spatial element per instance when using instance statistics, got input of shape {NormChecks.Shape(input)}", nameof(input));

        using var scope = NewDisposeScope();
        var x = channelDim == 0 ? input.unsqueeze(0) : input;
        var y = UseFusedKernel
            ? F.instance_norm(x, _running_mean, _running_var, _weight, _bias, useInputStats, momentum, eps)
            : Formula(x, useInputStats, spatialSize);
        if (channelDim == 0) y = y.squeeze(0);
        return y.MoveToOuterDisposeScope();
    }

    Tensor Formula(Tensor x, bool useInputStats, long spatialSize)
    {
        var shape = NormChecks.ChannelShape(num_features, x.dim());
        Tensor mean, variance;
        if (useInputStats)
        {
            var dims = NormChecks.Range(2, x.dim());
            mean = x.mean(dims, keepdim: true);                              // μ_nc
            variance = x.sub(mean).square().mean(dims, keepdim: true);      // σ²_nc, biased
            if (training && track_running_stats)
            {
                using var _ = no_grad();
                var batchMean = mean.detach().reshape(x.size(0), num_features).mean([0]);
                var batchVar = variance.detach().reshape(x.size(0), num_features).mean([0]).mul((double)spatialSize / (spatialSize - 1));
                _running_mean!.mul_(1 - momentum).add_(batchMean, alpha: momentum);
                _running_var!.mul_(1 - momentum).add_(batchVar, alpha: momentum);
            }
        }
        else
        {
            mean = _running_mean!.view(shape);
            variance = _running_var!.view(shape);
        }
        var y = x.sub(mean).mul(variance.add(eps).rsqrt());
        return affine ? y.mul(_weight!.view(shape)).add(_bias!.view(shape)) : y;
    }
}
