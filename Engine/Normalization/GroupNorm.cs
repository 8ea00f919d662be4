using TorchSharp.Utils;
using TorchSharp.Modules;
using F = TorchSharp.torch.nn.functional;

namespace Engine.Normalization;

/// <summary>
/// Group normalization (Wu and He, 2018): the C channels of each sample are split into G groups of
/// C/G channels, and each group is normalized over its channels and spatial positions; per-channel
/// γ, β follow. The seed's "chuẩn hóa theo nhóm" between layer norm (G = 1) and instance norm
/// (G = C). For x : N × C × *, with S_ng the C/G · spatial-size values of group g of sample n:
/// <code>
/// μ_ng  = 1/|S_ng| Σ_{k∈S_ng} x_k
/// σ²_ng = 1/|S_ng| Σ_{k∈S_ng} (x_k − μ_ng)²        (biased)
/// y_nc… = γ_c · (x_nc… − μ_ng) / √(σ²_ng + ε) + β_c     (g = c / (C/G))
/// </code>
/// No running statistics: the same in training and eval, independent of the batch size.
/// <para>
/// The forward pass is the formula in tensor ops; <see cref="UseFusedKernel"/> switches to
/// libtorch's group_norm. Parameters <c>weight</c> (γ), <c>bias</c> (β) as PyTorch's. Checked
/// against TorchSharp's nn.GroupNorm in Engine.Tests/Normalization.
/// </para>
/// </summary>
public sealed class GroupNorm : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")] Parameter? _weight;
    [ComponentName(Name = "bias")] Parameter? _bias;

    public GroupNorm(long num_groups, long num_channels, double eps = 1e-5, bool affine = true,
        Device? device = null, ScalarType? dtype = null) : base(nameof(GroupNorm))
    {
        NormChecks.Positive(nameof(GroupNorm), nameof(num_groups), num_groups);
        NormChecks.Positive(nameof(GroupNorm), nameof(num_channels), num_channels);
        if (num_channels % num_groups != 0)
            throw new ArgumentException($"GroupNorm: num_groups = {num_groups} does not divide num_channels = {num_channels}: each group needs the same number of channels", nameof(num_groups));
        NormChecks.Eps(nameof(GroupNorm), eps);
        this.num_groups = num_groups;
        this.num_channels = num_channels;
        this.eps = eps;
        this.affine = affine;
        if (affine)
        {
            _weight = new Parameter(ones(num_channels, dtype, device));
            _bias = new Parameter(zeros(num_channels, dtype, device));
        }
        RegisterComponents();
    }

    public long num_groups { get; }
    public long num_channels { get; }
    public double eps { get; set; }
    public bool affine { get; }

    /// <summary>Use libtorch's fused group_norm kernel instead of the formula in tensor ops.</summary>
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

    public override Tensor forward(Tensor input)
    {
        NormChecks.NotNull(nameof(GroupNorm), input);
        if (input.dim() < 2)
            throw new ArgumentException($"GroupNorm: expected an (N, C, *) input with at least 2 dims, got input of shape {NormChecks.Shape(input)}", nameof(input));
        NormChecks.Channels(nameof(GroupNorm), input, 1, num_channels, "num_channels");
        NormChecks.Floating(nameof(GroupNorm), input);

        if (UseFusedKernel) return F.group_norm(input, num_groups, _weight, _bias, eps);

        using var scope = NewDisposeScope();
        var n = input.size(0);
        var groups = input.reshape(n, num_groups, -1);                       // S_ng along the last dim
        var mean = groups.mean([2], keepdim: true);                          // μ_ng
        var centered = groups.sub(mean);
        var variance = centered.square().mean([2], keepdim: true);          // σ²_ng, biased
        var y = centered.mul(variance.add(eps).rsqrt()).reshape(input.shape);
        if (affine)
        {
            var shape = NormChecks.ChannelShape(num_channels, input.dim());
            y = y.mul(_weight!.view(shape)).add(_bias!.view(shape));
        }
        return y.MoveToOuterDisposeScope();
    }
}
