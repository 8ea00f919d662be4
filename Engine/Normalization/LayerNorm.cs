using TorchSharp.Utils;
using TorchSharp.Modules;
using F = TorchSharp.torch.nn.functional;

namespace Engine.Normalization;

/// <summary>
/// Layer normalization (Ba, Kiros and Hinton, 2016): each sample is normalized over its last
/// dimensions (<see cref="normalized_shape"/>), so the statistics are per sample, not per batch.
/// The seed's "Layer Normalization for fully-connected networks", x : N × D, μ, σ : N × 1,
/// γ, β : 1 × D:
/// <code>
/// μ_i  = 1/D Σ_j x_ij
/// σ²_i = 1/D Σ_j (x_ij − μ_i)²          (biased)
/// y_ij = γ_j · (x_ij − μ_i) / √(σ²_i + ε) + β_j
/// </code>
/// with j running over every element of the normalized shape (γ, β have that shape). "Same
/// behavior at train and test": no running statistics, so it works in recurrent networks and
/// Transformers and with a batch of one.
/// <para>
/// The forward pass is the formula in tensor ops; <see cref="UseFusedKernel"/> switches to
/// libtorch's layer_norm. Parameters <c>weight</c> (γ) and <c>bias</c> (β) as PyTorch's. Checked
/// against TorchSharp's nn.LayerNorm (outputs, gradients) in Engine.Tests/Normalization.
/// </para>
/// </summary>
public sealed class LayerNorm : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")] Parameter? _weight;
    [ComponentName(Name = "bias")] Parameter? _bias;

    public LayerNorm(long[] normalized_shape, double eps = 1e-5, bool elementwise_affine = true, bool bias = true,
        Device? device = null, ScalarType? dtype = null) : base(nameof(LayerNorm))
    {
        ArgumentNullException.ThrowIfNull(normalized_shape);
        if (normalized_shape.Length == 0 || normalized_shape.Any(d => d <= 0))
            throw new ArgumentException($"LayerNorm: normalized_shape must be non-empty with positive sizes, got {NormChecks.Shape(normalized_shape)}", nameof(normalized_shape));
        NormChecks.Eps(nameof(LayerNorm), eps);
        this.normalized_shape = (long[])normalized_shape.Clone();
        this.eps = eps;
        this.elementwise_affine = elementwise_affine;
        if (elementwise_affine)
        {
            _weight = new Parameter(ones(normalized_shape, dtype, device));
            if (bias) _bias = new Parameter(zeros(normalized_shape, dtype, device));
        }
        RegisterComponents();
    }

    public LayerNorm(long normalized_shape, double eps = 1e-5, bool elementwise_affine = true, bool bias = true,
        Device? device = null, ScalarType? dtype = null) : this([normalized_shape], eps, elementwise_affine, bias, device, dtype) { }

    public long[] normalized_shape { get; }
    public double eps { get; set; }
    public bool elementwise_affine { get; }

    /// <summary>Use libtorch's fused layer_norm kernel instead of the formula in tensor ops.</summary>
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
        NormChecks.NotNull(nameof(LayerNorm), input);
        CheckTrailingShape(nameof(LayerNorm), input, normalized_shape);
        NormChecks.Floating(nameof(LayerNorm), input);

        if (UseFusedKernel) return F.layer_norm(input, normalized_shape, _weight, _bias, eps);

        using var scope = NewDisposeScope();
        var dims = NormChecks.Range(input.dim() - normalized_shape.Length, input.dim());
        var mean = input.mean(dims, keepdim: true);                          // μ_i
        var centered = input.sub(mean);
        var variance = centered.square().mean(dims, keepdim: true);         // σ²_i, biased
        var y = centered.mul(variance.add(eps).rsqrt());                     // x̂
        if (_weight is not null) y = y.mul(_weight);                         // γ ⊙ x̂ (broadcast over leading dims)
        if (_bias is not null) y = y.add(_bias);                             // + β
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>The input's last dims equal <paramref name="normalizedShape"/>.</summary>
    internal static void CheckTrailingShape(string layer, Tensor input, long[] normalizedShape)
    {
        var n = normalizedShape.Length;
        var ok = input.dim() >= n;
        for (var i = 0; ok && i < n; i++) ok = input.size((int)input.dim() - n + i) == normalizedShape[i];
        if (!ok)
            throw new ArgumentException($"{layer}: input of shape {NormChecks.Shape(input)} does not end with normalized_shape {NormChecks.Shape(normalizedShape)}: expected input of shape (*, {string.Join(", ", normalizedShape)})", nameof(input));
    }
}
