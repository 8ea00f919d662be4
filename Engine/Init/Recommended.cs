using TorchSharp.Modules;

namespace Engine.Init;

/// <summary>Options for <see cref="Init.ApplyRecommended"/>.</summary>
public sealed class RecommendedInitOptions
{
    /// <summary>The activation of the last weight layer when no activation module follows it
    /// (the output layer): Linear (none) by default.</summary>
    public Nonlinearity OutputActivation { get; init; } = Nonlinearity.Linear;

    /// <summary>Negative slope of the leaky ReLU when <c>activation</c> is LeakyRelu (a LeakyReLU
    /// module's own slope wins).</summary>
    public double LeakySlope { get; init; } = 0.01;

    /// <summary>std of the N(0, std²) embedding tables (0.02, the seeds' and GPT-2's value).</summary>
    public double EmbeddingStd { get; init; } = 0.02;

    /// <summary>Number of residual blocks L; with <see cref="IsResidualBranchOutput"/> the weights
    /// of the layers that end a residual branch are multiplied by 1/√(2L) after their init
    /// (GPT-2: the branch outputs add up over 2L branches, so the sum keeps its variance).</summary>
    public int? ResidualDepth { get; init; }

    /// <summary>Picks, by the module's name in the model, the layers that end a residual branch
    /// (e.g. <c>name =&gt; name.EndsWith("proj")</c>).</summary>
    public Func<string, bool>? IsResidualBranchOutput { get; init; }

    public Generator? Generator { get; init; }
}

public static partial class Init
{
    /// <summary>
    /// Initializes a whole model by the seeds' table "initialization by layer type":
    /// <list type="bullet">
    /// <item>Linear and Conv weights by the activation that follows them: He/Kaiming normal for
    /// ReLU (and GELU, SiLU, ELU, Mish, ReLU6, PReLU), std = √(2 / n_in), fan_in for Linear and
    /// fan_out for Conv ("fan_out for backprop"); Kaiming with the slope for leaky ReLU; Xavier
    /// uniform U(−a, a), a = gain · √(6 / (n_in + n_out)), for tanh (gain 5/3, PyTorch's
    /// calculate_gain) and sigmoid (gain 1); LeCun normal, variance 1/n_in, for SELU; Xavier with
    /// gain 1 when no activation follows. Their biases 0.</item>
    /// <item>Embedding tables N(0, 0.02²).</item>
    /// <item>LSTM, GRU and RNN: recurrent weights orthogonal, one block per gate; input weights
    /// Xavier uniform; biases 0.</item>
    /// <item>Normalization layers (any module whose type name contains "Norm": BatchNorm, LayerNorm,
    /// GroupNorm, InstanceNorm, RMSNorm, Engine's and TorchSharp's): weight 1, bias 0.</item>
    /// <item>Optionally, layers that end a residual branch scaled by 1/√(2 · depth).</item>
    /// </list>
    /// The following activation is read from module order: the first activation module after the
    /// layer, looking past normalization, dropout, pooling, flatten and identity modules, before the
    /// next weight layer. When there is none (activations applied as functions in forward),
    /// <paramref name="activation"/> is used, except for the last weight layer, which uses
    /// <see cref="RecommendedInitOptions.OutputActivation"/>. Other parameters are left as they are.
    /// Returns, per initialized module name, the rule applied.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ApplyRecommended(nn.Module model, Nonlinearity activation = Nonlinearity.Relu,
        RecommendedInitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new RecommendedInitOptions();
        if (options.ResidualDepth is { } depth && (depth < 1 || options.IsResidualBranchOutput is null))
            throw new ArgumentException($"ApplyRecommended: ResidualDepth = {depth} needs a positive depth and an IsResidualBranchOutput selector", nameof(options));
        if (options.ResidualDepth is null && options.IsResidualBranchOutput is not null)
            throw new ArgumentException("ApplyRecommended: IsResidualBranchOutput needs ResidualDepth", nameof(options));

        // Leaves in registration order: the order a Sequential runs them.
        var leaves = model.named_modules().Where(m => !m.module.children().Any()).ToList();
        if (leaves.Count == 0) leaves.Add(("", model));
        int lastWeightLayer = leaves.FindLastIndex(m => m.module is Linear or Convolution);
        var applied = new Dictionary<string, string>();
        var g = options.Generator;
        using var noGrad = no_grad();
        for (int i = 0; i < leaves.Count; i++)
        {
            var (name, module) = leaves[i];
            switch (module)
            {
                case Linear or Convolution:
                {
                    var (act, slope) = FollowingActivation(leaves, i) ?? (i == lastWeightLayer ? (options.OutputActivation, options.LeakySlope) : (activation, options.LeakySlope));
                    var (weight, bias) = WeightAndBias(module);
                    var mode = module is Convolution ? FanMode.FanOut : FanMode.FanIn;
                    string rule;
                    switch (act)
                    {
                        case Nonlinearity.Relu:
                            KaimingNormal_(weight, 0, mode, Nonlinearity.Relu, g);
                            rule = $"kaiming_normal {mode} relu";
                            break;
                        case Nonlinearity.LeakyRelu:
                            KaimingNormal_(weight, slope, mode, Nonlinearity.LeakyRelu, g);
                            rule = $"kaiming_normal {mode} leaky_relu {slope}";
                            break;
                        case Nonlinearity.Tanh:
                            XavierUniform_(weight, CalculateGain(Nonlinearity.Tanh), g);
                            rule = "xavier_uniform gain 5/3";
                            break;
                        case Nonlinearity.Selu:
                            LecunNormal_(weight, generator: g);
                            rule = "lecun_normal";
                            break;
                        default:   // sigmoid, linear/none
                            XavierUniform_(weight, 1, g);
                            rule = $"xavier_uniform gain 1 ({act})";
                            break;
                    }
                    bias?.zero_();
                    if (options.ResidualDepth is { } l && options.IsResidualBranchOutput!(name))
                    {
                        weight.mul_(1 / Math.Sqrt(2.0 * l));
                        rule += $", residual branch x1/sqrt(2*{l})";
                    }
                    applied[name] = rule + ", bias 0";
                    break;
                }
                case Embedding e:
                    Normal_(e.weight!, 0, options.EmbeddingStd, g);
                    applied[name] = $"normal(0, {options.EmbeddingStd})";
                    break;
                case var rnn when module.GetType().Name is "LSTM" or "GRU" or "RNN":
                {
                    // Recurrent weights: one orthogonal block per gate (the seeds' "LSTM/GRU: orthogonal"),
                    // so repeated multiplication by W_hh neither shrinks nor grows the state;
                    // input weights Xavier uniform; biases 0.
                    long gates = rnn.GetType().Name switch { "LSTM" => 4, "GRU" => 3, _ => 1 };
                    foreach (var (pname, p) in rnn.named_parameters(recurse: false))
                    {
                        if (pname.StartsWith("weight_hh"))
                            foreach (var block in p.chunk(gates, 0)) Orthogonal_(block, 1, g);
                        else if (pname.StartsWith("weight_ih")) XavierUniform_(p, 1, g);
                        else if (pname.StartsWith("bias")) p.zero_();
                    }
                    applied[name] = $"recurrent: weight_hh orthogonal per gate ({gates}), weight_ih xavier_uniform, biases 0";
                    break;
                }
                default:
                    if (module.GetType().Name.Contains("Norm"))
                    {
                        bool any = false;
                        foreach (var (pname, p) in module.named_parameters(recurse: false))
                        {
                            if (pname == "weight") { p.fill_(1); any = true; }
                            else if (pname == "bias") { p.zero_(); any = true; }
                        }
                        if (any) applied[name] = "weight 1, bias 0";
                    }
                    break;
            }
        }
        return applied;
    }

    static (Nonlinearity, double)? FollowingActivation(List<(string name, nn.Module module)> leaves, int layer)
    {
        for (int j = layer + 1; j < leaves.Count; j++)
        {
            var m = leaves[j].module;
            if (m is Linear or Convolution or Embedding) return null;
            switch (m)
            {
                case LeakyReLU lr: return (Nonlinearity.LeakyRelu, lr.negative_slope);
                case Tanh: return (Nonlinearity.Tanh, 0);
                case Sigmoid: return (Nonlinearity.Sigmoid, 0);
                case SELU: return (Nonlinearity.Selu, 0);
            }
            var type = m.GetType().Name;
            if (type is "ReLU" or "ReLU6" or "GELU" or "SiLU" or "ELU" or "Mish" or "PReLU" or "CELU" or "Hardswish")
                return (Nonlinearity.Relu, 0);
            if (!(type.Contains("Norm") || type.Contains("Dropout") || type.Contains("Pool") || type is "Flatten" or "Unflatten" or "Identity"))
                return null;
        }
        return null;
    }
}
