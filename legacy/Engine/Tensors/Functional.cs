namespace Engine;

/// <summary>Functional neural-network ops (torch.nn.functional): activations, softmax,
/// convolution and pooling, each one ATen operator.</summary>
public static partial class Functional
{
    static readonly Op s_softmax = new("aten::softmax", "int"), s_logSoftmax = new("aten::log_softmax", "int");
    static readonly Op s_conv1d = new("aten::conv1d"), s_conv2d = new("aten::conv2d");
    static readonly Op s_conv2dPad = new("aten::conv2d", "padding"), s_conv1dPad = new("aten::conv1d", "padding");
    static readonly Op s_convT2d = new("aten::conv_transpose2d", "input");
    static readonly Op s_maxPool1d = new("aten::max_pool1d"), s_maxPool2d = new("aten::max_pool2d");
    static readonly Op s_avgPool1d = new("aten::avg_pool1d"), s_avgPool2d = new("aten::avg_pool2d");
    static readonly Op s_adaptiveAvg2d = new("aten::adaptive_avg_pool2d"), s_adaptiveMax2d = new("aten::adaptive_max_pool2d");
    static readonly Op s_linear = new("aten::linear"), s_leakyRelu = new("aten::leaky_relu");
    static readonly Op s_gelu = new("aten::gelu"), s_elu = new("aten::elu"), s_selu = new("aten::selu");
    static readonly Op s_softplus = new("aten::softplus"), s_dropout = new("aten::dropout");
    static readonly Op s_hardtanh = new("aten::hardtanh");
    static readonly Op s_pad = new("aten::pad"), s_embedding = new("aten::embedding");
    static readonly Op s_maxPool2dIdx = new("aten::max_pool2d_with_indices");

    public static Tensor Softmax(this Tensor x, long dim, ScalarType? dtype = null) => s_softmax.Call(x, dim, Arg.Of(dtype));
    public static Tensor LogSoftmax(this Tensor x, long dim, ScalarType? dtype = null) => s_logSoftmax.Call(x, dim, Arg.Of(dtype));

    /// <summary>x @ weight.T + bias.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null) => s_linear.Call(x, weight, bias);

    public static Tensor LeakyRelu(this Tensor x, double negativeSlope = 0.01) => s_leakyRelu.Call(x, negativeSlope);
    /// <summary>GELU, exact (erf) or "tanh" approximation.</summary>
    public static Tensor Gelu(Tensor x, string approximate = "none") => s_gelu.Call(x, approximate);
    public static Tensor Elu(this Tensor x, double alpha = 1) => s_elu.Call(x, alpha);
    public static Tensor Selu(this Tensor x) => s_selu.Call(x);
    public static Tensor Softplus(this Tensor x, double beta = 1, double threshold = 20) => s_softplus.Call(x, beta, threshold);
    public static Tensor Hardtanh(this Tensor x, double min = -1, double max = 1) => s_hardtanh.Call(x, min, max);
    /// <summary>libtorch's dropout kernel (the engine's own dropout modules come later).</summary>
    public static Tensor Dropout(Tensor x, double p, bool train) => s_dropout.Call(x, p, train);

    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias = null, long stride = 1, long padding = 0, long dilation = 1, long groups = 1) =>
        s_conv1d.Call(x, weight, bias, new[] { stride }, new[] { padding }, new[] { dilation }, groups);

    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, long[]? stride = null, long[]? padding = null,
        long[]? dilation = null, long groups = 1) =>
        s_conv2d.Call(x, weight, bias, stride ?? [1, 1], padding ?? [0, 0], dilation ?? [1, 1], groups);

    /// <summary>Conv with padding "same" or "valid".</summary>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, string padding, long[]? stride = null, long[]? dilation = null, long groups = 1) =>
        s_conv2dPad.Call(x, weight, bias, stride ?? [1, 1], padding, dilation ?? [1, 1], groups);

    public static Tensor Conv1d(Tensor x, Tensor weight, Tensor? bias, string padding, long stride = 1, long dilation = 1, long groups = 1) =>
        s_conv1dPad.Call(x, weight, bias, new[] { stride }, padding, new[] { dilation }, groups);

    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias = null, long[]? stride = null, long[]? padding = null,
        long[]? outputPadding = null, long groups = 1, long[]? dilation = null) =>
        s_convT2d.Call(x, weight, bias, stride ?? [1, 1], padding ?? [0, 0], outputPadding ?? [0, 0], groups, dilation ?? [1, 1]);

    public static Tensor MaxPool1d(Tensor x, long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false) =>
        s_maxPool1d.Call(x, new[] { kernelSize }, new[] { stride ?? kernelSize }, new[] { padding }, new[] { dilation }, ceilMode);

    public static Tensor MaxPool2d(Tensor x, long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null, bool ceilMode = false) =>
        s_maxPool2d.Call(x, kernelSize, stride ?? kernelSize, padding ?? [0, 0], dilation ?? [1, 1], ceilMode);

    public static Tensor AvgPool1d(Tensor x, long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        s_avgPool1d.Call(x, new[] { kernelSize }, new[] { stride ?? kernelSize }, new[] { padding }, ceilMode, countIncludePad);

    public static Tensor AvgPool2d(Tensor x, long[] kernelSize, long[]? stride = null, long[]? padding = null, bool ceilMode = false,
        bool countIncludePad = true, long? divisorOverride = null) =>
        s_avgPool2d.Call(x, kernelSize, stride ?? kernelSize, padding ?? [0, 0], ceilMode, countIncludePad, Arg.Of(divisorOverride));

    /// <summary>(values, indices into each flattened input plane), as max_pool2d(return_indices=True).</summary>
    public static (Tensor Values, Tensor Indices) MaxPool2dWithIndices(Tensor x, long[] kernelSize, long[]? stride = null, long[]? padding = null,
        long[]? dilation = null, bool ceilMode = false)
    {
        var r = s_maxPool2dIdx.CallTensors(x, kernelSize, stride ?? kernelSize, padding ?? [0, 0], dilation ?? [1, 1], ceilMode);
        return (r[0], r[1]);
    }

    public static Tensor AdaptiveAvgPool2d(Tensor x, long[] outputSize) => s_adaptiveAvg2d.Call(x, outputSize);

    /// <summary>(values, indices).</summary>
    public static (Tensor, Tensor) AdaptiveMaxPool2d(Tensor x, long[] outputSize)
    {
        var r = s_adaptiveMax2d.CallTensors(x, outputSize);
        return (r[0], r[1]);
    }

    /// <summary>Pads the last dimensions (F.pad): <paramref name="pad"/> lists (left, right) sizes
    /// starting from the last dimension; mode "constant" (with <paramref name="value"/>, default 0),
    /// "reflect", "replicate" or "circular".</summary>
    public static Tensor Pad(Tensor x, long[] pad, string mode = "constant", double? value = null) =>
        s_pad.Call(x, pad, mode, Arg.Of(value));

    /// <summary>Rows of <paramref name="weight"/> picked by integer <paramref name="indices"/>
    /// (torch.embedding); the row at <paramref name="paddingIdx"/> (if not -1) gets no gradient.</summary>
    public static Tensor Embedding(Tensor weight, Tensor indices, long paddingIdx = -1, bool scaleGradByFreq = false) =>
        s_embedding.Call(weight, indices, paddingIdx, scaleGradByFreq, false);
}
