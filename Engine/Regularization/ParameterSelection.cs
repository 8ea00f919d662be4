namespace Engine.Regularization;

/// <summary>
/// Which parameters a penalty or weight decay applies to. The seeds' advice (and timm's
/// <c>param_groups_weight_decay</c>): decay the weights of linear and convolution layers, not biases
/// and not the scale/shift of normalization layers, which set the scale of activations rather than
/// fit the data. Rule: a parameter is excluded when its name is or ends with "bias" or when it has at
/// most one dimension (every bias, every BatchNorm/LayerNorm/GroupNorm weight).
/// </summary>
public static class ParameterSelection
{
    public static bool IsDecayed(string name, Tensor parameter) =>
        parameter.dim() > 1 && !(name == "bias" || name.EndsWith(".bias", StringComparison.Ordinal));

    /// <summary>The parameters to penalize or decay, in the module's order.</summary>
    public static List<Parameter> Decayed(nn.Module module) =>
        module.named_parameters().Where(np => IsDecayed(np.name, np.parameter)).Select(np => np.parameter).ToList();

    /// <summary>The complement of <see cref="Decayed"/>: biases and normalization weights.</summary>
    public static List<Parameter> NotDecayed(nn.Module module) =>
        module.named_parameters().Where(np => !IsDecayed(np.name, np.parameter)).Select(np => np.parameter).ToList();
}
