namespace Engine.Nn;

/// <summary>
/// Long short-term memory (nn.LSTM), per layer and time step:
/// i = σ(W_ii x + b_ii + W_hi h + b_hi), f = σ(W_if x + b_if + W_hf h + b_hf),
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg), o = σ(W_io x + b_io + W_ho h + b_ho),
/// c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c') (then h' = W_hr h' with a projection). Gates are stacked
/// in that order (i, f, g, o) in weight_ih [4·hidden, in]. Runs libtorch's fused aten::lstm.
/// Returns (output [L, N, D·H_out], (h_n, c_n) each [D·num_layers, N, H]); the initial state
/// defaults to zeros. See <see cref="RnnBase{TOut}"/> for shapes, names and initialization.
/// Checked against nn.LSTM (Python fixtures: init, outputs, states, gradients, dropout, projections) and aten::lstm, in LSTMTests.
/// </summary>
public sealed class LSTM : RnnBase<(Tensor Output, (Tensor H, Tensor C) State)>
{
    static readonly Op s_lstm = new("aten::lstm", "input");

    public LSTM(long inputSize, long hiddenSize, long numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, long projSize = 0, Device? device = null, ScalarType? dtype = null)
        : base(4, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize, device, dtype)
    {
    }

    public override (Tensor Output, (Tensor H, Tensor C) State) Forward(Tensor input) => Forward(input, null);

    /// <summary>Runs the sequence from <paramref name="state"/> (h_0, c_0), or from zeros.</summary>
    public (Tensor Output, (Tensor H, Tensor C) State) Forward(Tensor input, (Tensor H, Tensor C)? state)
    {
        var (x, batched, batch) = PrepareInput(input);
        using var _ = x;
        using var h0 = PrepareState(state?.H, batched, batch, RealHiddenSize, x, "h_0");
        using var c0 = PrepareState(state?.C, batched, batch, HiddenSize, x, "c_0");
        var r = s_lstm.CallTensors(x, new[] { h0, c0 }, FlatWeights.ToArray<Tensor>(), Bias, NumLayers, Dropout, Training, Bidirectional, BatchFirst);
        if (batched) return (r[0], (r[1], r[2]));
        using (r[0]) using (r[1]) using (r[2])
            return (r[0].Squeeze(BatchFirst ? 0 : 1), (r[1].Squeeze(1), r[2].Squeeze(1)));
    }

    /// <summary><see cref="Forward(Tensor, ValueTuple{Tensor, Tensor}?)"/> followed by the forward hooks.</summary>
    public (Tensor Output, (Tensor H, Tensor C) State) Call(Tensor input, (Tensor H, Tensor C)? state)
    {
        var output = Forward(input, state);
        RunForwardHooks(input, output);
        return output;
    }
}
