using TorchSharp.Utils;
using TorchSharp.Modules;

namespace Engine.Normalization;

/// <summary>
/// Root-mean-square layer normalization (Zhang and Sennrich, 2019), PyTorch's nn.RMSNorm: layer
/// normalization without the mean, each sample rescaled by the root mean square of its last
/// dimensions (<see cref="normalized_shape"/>):
/// <code>
/// RMS(x_i) = √(1/D Σ_j x_ij² + ε)
/// y_ij     = γ_j · x_ij / RMS(x_i)
/// </code>
/// ε defaults to the machine epsilon of the input's dtype (torch.finfo(dtype).eps), as PyTorch's.
/// Parameter <c>weight</c> (γ, ones at start) when elementwise_affine; there is no bias.
/// TorchSharp 0.107 has neither an RMSNorm module nor an rms_norm kernel, so there is no fused
/// path; checked against a float64 evaluation of the formula in Engine.Tests/Normalization.
/// </summary>
public sealed class RMSNorm : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "weight")] Parameter? _weight;

    public RMSNorm(long[] normalized_shape, double? eps = null, bool elementwise_affine = true,
        Device? device = null, ScalarType? dtype = null) : base(nameof(RMSNorm))
    {
        ArgumentNullException.ThrowIfNull(normalized_shape);
        if (normalized_shape.Length == 0 || normalized_shape.Any(d => d <= 0))
            throw new ArgumentException($"RMSNorm: normalized_shape must be non-empty with positive sizes, got {NormChecks.Shape(normalized_shape)}", nameof(normalized_shape));
        if (eps is { } e) NormChecks.Eps(nameof(RMSNorm), e);
        this.normalized_shape = (long[])normalized_shape.Clone();
        this.eps = eps;
        this.elementwise_affine = elementwise_affine;
        if (elementwise_affine) _weight = new Parameter(ones(normalized_shape, dtype, device));
        RegisterComponents();
    }

    public RMSNorm(long normalized_shape, double? eps = null, bool elementwise_affine = true,
        Device? device = null, ScalarType? dtype = null) : this([normalized_shape], eps, elementwise_affine, device, dtype) { }

    public long[] normalized_shape { get; }
    /// <summary>ε under the root; null: the input dtype's machine epsilon.</summary>
    public double? eps { get; set; }
    public bool elementwise_affine { get; }
    public Parameter? weight
    {
        get => _weight;
        set { _weight?.Dispose(); _weight = value?.DetachFromDisposeScope() as Parameter; ConditionallyRegisterParameter("weight", _weight); }
    }

    public override Tensor forward(Tensor input)
    {
        NormChecks.NotNull(nameof(RMSNorm), input);
        LayerNorm.CheckTrailingShape(nameof(RMSNorm), input, normalized_shape);
        NormChecks.Floating(nameof(RMSNorm), input);

        using var scope = NewDisposeScope();
        var dims = NormChecks.Range(input.dim() - normalized_shape.Length, input.dim());
        var epsilon = eps ?? MachineEpsilon(input.dtype);
        var meanSquare = input.square().mean(dims, keepdim: true);          // 1/D Σ x²
        var y = input.mul(meanSquare.add(epsilon).rsqrt());                  // x / RMS(x)
        if (_weight is not null) y = y.mul(_weight);                         // γ ⊙
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>torch.finfo(dtype).eps: the gap between 1 and the next representable number.</summary>
    static double MachineEpsilon(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => Math.Pow(2, -52),
        ScalarType.Float32 => Math.Pow(2, -23),
        ScalarType.Float16 => Math.Pow(2, -10),
        ScalarType.BFloat16 => Math.Pow(2, -7),
        _ => Math.Pow(2, -23),
    };
}
