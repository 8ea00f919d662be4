namespace Engine.Nn;

/// <summary>
/// Elman recurrent network (nn.RNN): h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or ReLU with
/// <c>nonlinearity: "relu"</c>), through libtorch's fused aten::rnn_tanh / aten::rnn_relu.
/// Returns (output [L, N, D·H], h_n [D·num_layers, N, H]); the initial state defaults to zeros.
/// See <see cref="RnnBase{TOut}"/> for shapes, names and initialization.
/// Checked against nn.RNN (Python fixtures) and aten::rnn_tanh, in RNNTests.
/// </summary>
public sealed class RNN : RnnBase<(Tensor Output, Tensor H)>
{
    static readonly Op s_tanh = new("aten::rnn_tanh", "input"), s_relu = new("aten::rnn_relu", "input");

    /// <summary>"tanh" or "relu".</summary>
    public string Nonlinearity { get; }

    public RNN(long inputSize, long hiddenSize, long numLayers = 1, string nonlinearity = "tanh", bool bias = true, bool batchFirst = false,
        double dropout = 0, bool bidirectional = false, Device? device = null, ScalarType? dtype = null)
        : base(1, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 0, device, dtype)
    {
        if (nonlinearity is not ("tanh" or "relu"))
            throw new ArgumentException($"RNN: unknown nonlinearity '{nonlinearity}'; select from 'tanh' or 'relu'");
        Nonlinearity = nonlinearity;
    }

    public override (Tensor Output, Tensor H) Forward(Tensor input) => Forward(input, null);

    /// <summary>Runs the sequence from <paramref name="h0"/>, or from zeros.</summary>
    public (Tensor Output, Tensor H) Forward(Tensor input, Tensor? h0) =>
        RunSingleState(Nonlinearity == "tanh" ? s_tanh : s_relu, input, h0);

    /// <summary><see cref="Forward(Tensor, Tensor?)"/> followed by the forward hooks.</summary>
    public (Tensor Output, Tensor H) Call(Tensor input, Tensor? h0)
    {
        var output = Forward(input, h0);
        RunForwardHooks(input, output);
        return output;
    }
}

