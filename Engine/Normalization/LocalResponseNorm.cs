using F = TorchSharp.torch.nn.functional;

namespace Engine.Normalization;

/// <summary>
/// Local response normalization (Krizhevsky, Sutskever and Hinton, 2012, AlexNet): each activation
/// is divided by the energy of its neighbours across channels, PyTorch's nn.LocalResponseNorm:
/// <code>
/// b_c = a_c · (k + α/n · Σ_{c' = c − ⌊n/2⌋}^{c + ⌊(n−1)/2⌋} a_{c'}²)^(−β)
/// </code>
/// with n = <see cref="size"/> neighbouring channels, channels outside 0..C−1 counting as zero (the
/// sum is still divided by n). No parameters, the same in training and eval. Input (N, C, *) with at
/// least 3 dims.
/// <para>
/// The forward pass is the formula in tensor ops (a window sum over the zero-padded channel axis);
/// <see cref="UseFusedKernel"/> switches to libtorch's local_response_norm. Checked against
/// TorchSharp's nn.LocalResponseNorm in Engine.Tests/Normalization.
/// </para>
/// </summary>
public sealed class LocalResponseNorm : nn.Module<Tensor, Tensor>
{
    public LocalResponseNorm(long size, double alpha = 1e-4, double beta = 0.75, double k = 1.0) : base(nameof(LocalResponseNorm))
    {
        NormChecks.Positive(nameof(LocalResponseNorm), nameof(size), size);
        this.size = size;
        this.alpha = alpha;
        this.beta = beta;
        this.k = k;
    }

    public long size { get; }
    public double alpha { get; set; }
    public double beta { get; set; }
    public double k { get; set; }

    /// <summary>Use libtorch's local_response_norm instead of the formula in tensor ops.</summary>
    public bool UseFusedKernel { get; set; }

    public override Tensor forward(Tensor input)
    {
        NormChecks.NotNull(nameof(LocalResponseNorm), input);
        if (input.dim() < 3)
            throw new ArgumentException($"LocalResponseNorm: expected an (N, C, *) input with at least 3 dims, got input of shape {NormChecks.Shape(input)}", nameof(input));
        NormChecks.Floating(nameof(LocalResponseNorm), input);

        if (UseFusedKernel) return F.local_response_norm(input, size, alpha, beta, k);

        using var scope = NewDisposeScope();
        var squares = input.square();
        var before = size / 2;
        var after = (size - 1) / 2;
        var padShape = (long[])input.shape.Clone();
        padShape[1] = before;
        var head = zeros(padShape, input.dtype, input.device);
        padShape[1] = after;
        var tail = zeros(padShape, input.dtype, input.device);
        var padded = cat([head, squares, tail], 1);                                        // a² with zero channels around
        var windowSum = padded.unfold(1, size, 1).sum([-1]);                               // Σ over the n channels around c
        var denominator = windowSum.mul(alpha / size).add(k).pow(beta);                    // (k + α/n Σ a²)^β
        return input.div(denominator).MoveToOuterDisposeScope();
    }
}
