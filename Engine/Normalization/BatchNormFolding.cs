using TorchSharp.Modules;

namespace Engine.Normalization;

/// <summary>
/// Inference folding of batch normalization. In eval a BatchNorm is a fixed per-channel linear map
/// (the seed: "During testing batchnorm becomes a linear operator! Can be fused with the previous
/// fully-connected or conv layer"): for the layer before it, z = W·x + b, and the BatchNorm's
/// running μ, σ², ε, γ, β,
/// <code>
/// y = γ · (z − μ) / √(σ² + ε) + β = (s ⊙ W)·x + s ⊙ (b − μ) + β,      s = γ / √(σ² + ε)
/// W' = s ⊙ W   (each output channel's row or filter scaled by s_c)
/// b' = s ⊙ (b − μ) + β
/// </code>
/// so one Linear or Conv2d with W', b' replaces the pair and the BatchNorm's work disappears at
/// inference. Checked against TorchSharp's nn.utils.fuse_conv_bn_weights / fuse_linear_bn_weights
/// and against the unfolded model's outputs in Engine.Tests/Normalization.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>
    /// W', b' for a Linear (out, in) or convolution (out, in/groups, k...) weight followed by a
    /// BatchNorm over its out channels. <paramref name="bias"/> null means b = 0; <paramref name="gamma"/>
    /// and <paramref name="beta"/> null mean a BatchNorm without affine (γ = 1, β = 0). New tensors,
    /// without grad.
    /// </summary>
    public static (Tensor Weight, Tensor Bias) FoldWeights(Tensor weight, Tensor? bias, Tensor runningMean,
        Tensor runningVar, double eps, Tensor? gamma = null, Tensor? beta = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(runningMean);
        ArgumentNullException.ThrowIfNull(runningVar);
        var channels = weight.size(0);
        foreach (var (name, t) in new[] { ("bias", bias), ("running_mean", runningMean), ("running_var", runningVar), ("gamma", gamma), ("beta", beta) })
            if (t is not null && (t.dim() != 1 || t.size(0) != channels))
                throw new ArgumentException($"BatchNormFolding: {name} of shape {NormChecks.Shape(t)} does not match the {channels} output channels of a weight of shape {NormChecks.Shape(weight)}: expected ({channels})");

        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var scale = runningVar.add(eps).rsqrt();                                  // 1/√(σ² + ε)
        if (gamma is not null) scale = scale.mul(gamma);                          // s = γ/√(σ² + ε)
        var shape = new long[weight.dim()];
        Array.Fill(shape, 1L);
        shape[0] = channels;
        var foldedWeight = weight.mul(scale.view(shape));                         // W' = s ⊙ W
        var b = bias is null ? zeros_like(runningMean) : bias;
        var foldedBias = b.sub(runningMean).mul(scale);                           // s ⊙ (b − μ)
        if (beta is not null) foldedBias = foldedBias.add(beta);                  // + β
        return (foldedWeight.MoveToOuterDisposeScope(), foldedBias.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// A copy of <paramref name="model"/> where every Linear or Conv2d directly followed by an
    /// eval-mode BatchNorm (Engine's <see cref="BatchNorm"/> or TorchSharp's) becomes one Linear or
    /// Conv2d with the folded W', b', and the BatchNorm is dropped; nested Sequentials are folded
    /// too. A BatchNorm after anything else (an activation, a pooling, Conv1d/Conv3d, a custom
    /// module) stays as it is; the Linear case assumes the BatchNorm's channels are the Linear's
    /// output features, i.e. (N, features) inputs. Other modules are shared with <paramref name="model"/>, not copied (disposing one model
    /// disposes them for both). The result is in eval mode. Throws ArgumentException, before any
    /// change, for a BatchNorm still in training mode, without running statistics, or whose channel
    /// count differs from the layer before it.
    /// </summary>
    public static Sequential Fold(Sequential model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var children = model.named_children().ToList();
        Validate(model);
        var folded = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (var i = 0; i < children.Count; i++)
        {
            var (name, module) = children[i];
            var next = i + 1 < children.Count ? children[i + 1].module : null;
            if (next is not null && AsBatchNorm(next) is { } bn && module is Linear or Conv2d)
            {
                folded.Add((name, module is Linear linear ? FoldLinear(linear, bn) : FoldConv2d((Conv2d)module, bn)));
                i++;   // the BatchNorm is inside the layer now
            }
            else if (module is Sequential inner) folded.Add((name, Fold(inner)));
            else if (module is nn.Module<Tensor, Tensor> m) folded.Add((name, m));
            else throw new ArgumentException($"BatchNormFolding: child '{name}' ({module.GetType().Name}) is not a Module<Tensor, Tensor>");
        }
        var result = nn.Sequential(folded.ToArray());
        result.eval();
        return result;
    }

    /// <summary>The running statistics and affine parameters of an Engine or TorchSharp BatchNorm.</summary>
    record BatchNormView(string Name, long Channels, bool Training, Tensor? Mean, Tensor? Var, double Eps, Tensor? Gamma, Tensor? Beta);

    static BatchNormView? AsBatchNorm(nn.Module module) => module switch
    {
        BatchNorm bn => new(bn.GetName(), bn.num_features, bn.training, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias),
        TorchSharp.Modules.BatchNorm bn => new(bn.GetType().Name, bn.num_features, bn.training, bn.running_mean, bn.running_var, bn.eps,
            bn.affine ? bn.weight : null, bn.affine ? bn.bias : null),
        _ => null,
    };

    /// <summary>All checks first, so a failing fold changes nothing.</summary>
    static void Validate(Sequential model)
    {
        var children = model.named_children().ToList();
        for (var i = 0; i + 1 < children.Count; i++)
        {
            var (name, module) = children[i];
            if (module is Sequential inner) { Validate(inner); continue; }
            if (module is not (Linear or Conv2d) || AsBatchNorm(children[i + 1].module) is not { } bn) continue;
            var outChannels = module is Linear l ? l.out_features : ((Conv2d)module).out_channels;
            var where = $"'{name}' ({module.GetType().Name}) followed by '{children[i + 1].name}' ({bn.Name})";
            if (bn.Training)
                throw new ArgumentException($"BatchNormFolding: {where}: the BatchNorm is in training mode, where it normalizes with batch statistics; call eval() first");
            if (bn.Mean is null || bn.Var is null)
                throw new ArgumentException($"BatchNormFolding: {where}: the BatchNorm has no running statistics (track_running_stats = false) and uses batch statistics even in eval; it cannot be folded");
            if (bn.Channels != outChannels)
                throw new ArgumentException($"BatchNormFolding: {where}: {outChannels} output channels but the BatchNorm has num_features = {bn.Channels}");
        }
    }

    static Linear FoldLinear(Linear linear, BatchNormView bn)
    {
        var (w, b) = FoldWeights(linear.weight, linear.bias, bn.Mean!, bn.Var!, bn.Eps, bn.Gamma, bn.Beta);
        var folded = nn.Linear(linear.in_features, linear.out_features, hasBias: true, device: w.device, dtype: w.dtype);
        Load(folded.weight, w);
        Load(folded.bias!, b);
        return folded;
    }

    static Conv2d FoldConv2d(Conv2d conv, BatchNormView bn)
    {
        var (w, b) = FoldWeights(conv.weight, conv.bias, bn.Mean!, bn.Var!, bn.Eps, bn.Gamma, bn.Beta);
        var k = (conv.kernel_size[0], conv.kernel_size[1]);
        var folded = conv.padding_type is { } padding
            ? nn.Conv2d(conv.in_channels, conv.out_channels, k, padding, (conv.stride[0], conv.stride[1]),
                (conv.dilation[0], conv.dilation[1]), conv.padding_mode, conv.groups, bias: true, device: w.device, dtype: w.dtype)
            : nn.Conv2d(conv.in_channels, conv.out_channels, k, (conv.stride[0], conv.stride[1]), (conv.padding![0], conv.padding[1]),
                (conv.dilation[0], conv.dilation[1]), conv.padding_mode, conv.groups, bias: true, device: w.device, dtype: w.dtype);
        Load(folded.weight, w);
        Load(folded.bias!, b);
        return folded;
    }

    static void Load(Tensor target, Tensor value)
    {
        using var _ = no_grad();
        target.copy_(value);
        value.Dispose();
    }
}
