namespace Engine.Nn;

/// <summary>What a parameter is to its layer; optimizers use it to leave biases and
/// normalization weights out of weight decay.</summary>
public enum ParameterRole { Weight, Bias, NormWeight, NormBias, Embedding, Other }

/// <summary>
/// A learnable tensor of a <see cref="Module"/> (torch.nn.Parameter): a leaf that requires grad
/// by default and belongs to its module, not to any <see cref="DisposeScope"/> (the module's
/// Dispose frees it).
/// </summary>
public sealed class Parameter : Tensor
{
    /// <summary>The layer's view of this parameter (weight, bias, normalization scale...).</summary>
    public ParameterRole Role { get; set; }

    /// <summary>Whether weight decay should skip it: biases and normalization parameters, by
    /// the usual convention (BERT, timm), unless set otherwise.</summary>
    public bool NoWeightDecay { get; set; }

    /// <summary>Wraps <paramref name="data"/>'s storage as a new leaf, as nn.Parameter(data) does.
    /// The caller keeps its own reference to data and disposes it (<c>using var w = ...</c>, or a
    /// scope); the storage lives on in the parameter.</summary>
    public Parameter(Tensor data, bool requiresGrad = true, ParameterRole role = ParameterRole.Weight)
        : base(Leaf(data))
    {
        DetachFromDisposeScope();
        Role = role;
        NoWeightDecay = role is ParameterRole.Bias or ParameterRole.NormWeight or ParameterRole.NormBias;
        if (requiresGrad) RequiresGrad = true;
    }

    static nint Leaf(Tensor data)
    {
        using var detached = data.Detach();
        return Interop.Native.eng_tensor_retain(detached.Handle);
    }
}
