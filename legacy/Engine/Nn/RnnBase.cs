namespace Engine.Nn;

/// <summary>
/// What RNN, LSTM and GRU share (PyTorch's RNNBase): the per-layer, per-direction weights in
/// PyTorch's order and names (weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}, then
/// weight_hr_l{k} for a projected LSTM, with the suffix _reverse for the backward direction),
/// PyTorch's initialization (every parameter ~ U(-1/√hidden, 1/√hidden), in that order), and the
/// input and state checks. The recurrence itself runs in libtorch's fused kernels
/// (aten::lstm / aten::gru / aten::rnn_tanh / aten::rnn_relu), over the flat weight list.
/// Input [L, N, input_size] ([N, L, input_size] with batchFirst) or unbatched [L, input_size].
/// Dropout (train mode only) applies to the outputs of every layer but the last.
/// </summary>
public abstract class RnnBase<TOut> : Module<Tensor, TOut>
{
    public long InputSize { get; }
    public long HiddenSize { get; }
    public long NumLayers { get; }
    public bool Bias { get; }
    public bool BatchFirst { get; }
    public double Dropout { get; }
    public bool Bidirectional { get; }
    /// <summary>LSTM only: the size the hidden state is projected to (0: none).</summary>
    public long ProjSize { get; }

    readonly List<Parameter> _flatWeights = new();

    /// <summary>Every weight in the order the fused kernels take them (the registration order).</summary>
    public IReadOnlyList<Parameter> FlatWeights => _flatWeights;

    protected int NumDirections => Bidirectional ? 2 : 1;
    /// <summary>Size of the h state and of each direction's output: ProjSize if set, else HiddenSize.</summary>
    protected long RealHiddenSize => ProjSize > 0 ? ProjSize : HiddenSize;

    protected RnnBase(long gates, long inputSize, long hiddenSize, long numLayers, bool bias, bool batchFirst, double dropout,
        bool bidirectional, long projSize, Device? device, ScalarType? dtype)
    {
        string name = GetType().Name;
        if (inputSize <= 0 || hiddenSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(hiddenSize), $"{name}({inputSize}, {hiddenSize}): input_size and hidden_size must be positive");
        if (numLayers <= 0)
            throw new ArgumentOutOfRangeException(nameof(numLayers), $"{name}: num_layers must be positive, got {numLayers}");
        if (!(dropout >= 0 && dropout <= 1))
            throw new ArgumentOutOfRangeException(nameof(dropout),
                $"{name}: dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got {dropout}");
        if (projSize < 0)
            throw new ArgumentOutOfRangeException(nameof(projSize), $"{name}: proj_size should be a positive integer or zero to disable projections, got {projSize}");
        if (projSize >= hiddenSize)
            throw new ArgumentOutOfRangeException(nameof(projSize), $"{name}: proj_size ({projSize}) has to be smaller than hidden_size ({hiddenSize})");
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Bias = bias;
        BatchFirst = batchFirst;
        Dropout = dropout;
        Bidirectional = bidirectional;
        ProjSize = projSize;

        long gateSize = gates * hiddenSize;
        for (long layer = 0; layer < numLayers; layer++)
        {
            for (int direction = 0; direction < NumDirections; direction++)
            {
                long layerInputSize = layer == 0 ? inputSize : RealHiddenSize * NumDirections;
                string suffix = direction == 1 ? "_reverse" : "";
                Add($"weight_ih_l{layer}{suffix}", [gateSize, layerInputSize], ParameterRole.Weight, device, dtype);
                Add($"weight_hh_l{layer}{suffix}", [gateSize, RealHiddenSize], ParameterRole.Weight, device, dtype);
                if (bias)
                {
                    Add($"bias_ih_l{layer}{suffix}", [gateSize], ParameterRole.Bias, device, dtype);
                    Add($"bias_hh_l{layer}{suffix}", [gateSize], ParameterRole.Bias, device, dtype);
                }
                if (projSize > 0) Add($"weight_hr_l{layer}{suffix}", [projSize, hiddenSize], ParameterRole.Weight, device, dtype);
            }
        }
        ResetParameters();
    }

    void Add(string name, long[] shape, ParameterRole role, Device? device, ScalarType? dtype)
    {
        Parameter p;
        using (var t = Torch.Empty(shape, dtype, device)) p = new Parameter(t, role: role);
        RegisterParameter(name, p);
        _flatWeights.Add(p);
    }

    /// <summary>Every parameter ~ U(-1/√hidden_size, 1/√hidden_size), in registration order
    /// (PyTorch's reset_parameters).</summary>
    public void ResetParameters()
    {
        double stdv = 1.0 / Math.Sqrt(HiddenSize);
        foreach (var w in _flatWeights) Init.Uniform_(w, -stdv, stdv);
    }

    /// <summary>Checks the input and gives it a batch dimension if it has none; returns the
    /// batched input (a new owner) and whether the caller's input was batched.</summary>
    protected (Tensor Input, bool Batched, long Batch) PrepareInput(Tensor input)
    {
        var shape = input.Shape;
        string layout = BatchFirst ? $"[N, L, {InputSize}] (batch_first=True)" : $"[L, N, {InputSize}]";
        if (shape.Length is not (2 or 3) || shape[^1] != InputSize)
            throw new ArgumentException($"{this}: expected input {layout} or unbatched [L, {InputSize}], got {Repr.Shape(shape)}");
        var weightType = _flatWeights[0].DType;
        if (input.DType != weightType)
            throw new ArgumentException($"{this}: input must have the type {weightType.TorchName()} of the weights, got {input.Describe()}");
        bool batched = shape.Length == 3;
        var x = batched ? input.Alias() : input.Unsqueeze(BatchFirst ? 0 : 1);
        long batch = batched ? (BatchFirst ? shape[0] : shape[1]) : 1;
        return (x, batched, batch);
    }

    /// <summary>The given initial state made batched and checked, or zeros.</summary>
    protected Tensor PrepareState(Tensor? state, bool batched, long batch, long size, Tensor input, string what)
    {
        long[] expected = [NumLayers * NumDirections, batch, size];
        if (state is null) return Torch.Zeros(expected, input.DType, input.Device);
        var shape = state.Shape;
        long[] want = batched ? expected : [expected[0], expected[2]];
        if (!shape.SequenceEqual(want))
            throw new ArgumentException(
                $"{this}: expected {what} {Repr.Shape(want)} (num_layers*num_directions, {(batched ? "batch, " : "")}{(size == HiddenSize ? "hidden_size" : "proj_size")}) for {(batched ? "batched 3-d" : "unbatched 2-d")} input, got {Repr.Shape(shape)}");
        return batched ? state.Alias() : state.Unsqueeze(1);
    }

    /// <summary>GRU's and RNN's forward: one state tensor through a fused operator with the schema
    /// (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first).</summary>
    protected (Tensor Output, Tensor H) RunSingleState(Op op, Tensor input, Tensor? h0)
    {
        var (x, batched, batch) = PrepareInput(input);
        using var _ = x;
        using var hx = PrepareState(h0, batched, batch, HiddenSize, x, "h_0");
        var r = op.CallTensors(x, hx, _flatWeights.ToArray<Tensor>(), Bias, NumLayers, Dropout, Training, Bidirectional, BatchFirst);
        if (batched) return (r[0], r[1]);
        using (r[0]) using (r[1])
            return (r[0].Squeeze(BatchFirst ? 0 : 1), r[1].Squeeze(1));
    }

    public override string ExtraRepr()
    {
        var s = $"{InputSize}, {HiddenSize}";
        if (ProjSize != 0) s += $", proj_size={ProjSize}";
        if (NumLayers != 1) s += $", num_layers={NumLayers}";
        if (!Bias) s += ", bias=False";
        if (BatchFirst) s += ", batch_first=True";
        if (Dropout != 0) s += $", dropout={Repr.Float(Dropout)}";
        if (Bidirectional) s += ", bidirectional=True";
        return s;
    }
}
