namespace Engine.Nn;

/// <summary>
/// Gated recurrent unit (nn.GRU), per layer and time step:
/// r = σ(W_ir x + b_ir + W_hr h + b_hr), z = σ(W_iz x + b_iz + W_hz h + b_hz),
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h. Gates are stacked in
/// that order (r, z, n) in weight_ih [3·hidden, in]. Runs libtorch's fused aten::gru.
/// Returns (output [L, N, D·H], h_n [D·num_layers, N, H]); the initial state defaults to zeros.
/// See <see cref="RnnBase{TOut}"/> for shapes, names and initialization.
/// Checked against nn.GRU (Python fixtures) and aten::gru, in GRUTests.
/// </summary>
public sealed class GRU : RnnBase<(Tensor Output, Tensor H)>
{
    static readonly Op s_gru = new("aten::gru", "input");

    public GRU(long inputSize, long hiddenSize, long numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0,
        bool bidirectional = false, Device? device = null, ScalarType? dtype = null)
        : base(3, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 0, device, dtype)
    {
    }

    public override (Tensor Output, Tensor H) Forward(Tensor input) => Forward(input, null);

    /// <summary>Runs the sequence from <paramref name="h0"/>, or from zeros.</summary>
    public (Tensor Output, Tensor H) Forward(Tensor input, Tensor? h0) => RunSingleState(s_gru, input, h0);

    /// <summary><see cref="Forward(Tensor, Tensor?)"/> followed by the forward hooks.</summary>
    public (Tensor Output, Tensor H) Call(Tensor input, Tensor? h0)
    {
        var output = Forward(input, h0);
        RunForwardHooks(input, output);
        return output;
    }
}
