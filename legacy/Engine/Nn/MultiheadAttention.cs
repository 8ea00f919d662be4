namespace Engine.Nn;

/// <summary>
/// Multi-head attention (nn.MultiheadAttention; Vaswani et al. 2017):
/// MultiHead(Q, K, V) = Concat(head₁, …, head_h) W_O, headᵢ = softmax(Q W_Qᵢ (K W_Kᵢ)ᵀ / √d_head + mask) V W_Vᵢ.
/// Parameters as PyTorch's: in_proj_weight [3E, E] holding W_Q, W_K, W_V stacked (or q_proj_weight,
/// k_proj_weight, v_proj_weight when kdim or vdim differ from E), in_proj_bias [3E], out_proj (a
/// Linear), and bias_k, bias_v [1, 1, E] with addBiasKV. Initialization as PyTorch's: out_proj's
/// own Linear init first, then xavier_uniform_ on the in-projection, zero biases, xavier_normal_
/// on bias_k and bias_v.
/// The forward is torch.nn.functional.multi_head_attention_forward (PyTorch 1.13) written with
/// tensor ops, step for step, so outputs and gradients match Python's. Inputs [L, N, E] (query) and
/// [S, N, E] (key, value), or [N, L, E] with batchFirst, or unbatched [L, E]. Masks: key padding
/// [N, S] (true, or a float added to the scores, per key), attention [L, S] or [N·heads, L, S]
/// (true = not allowed, or a float added). Returns the output and, if asked, the attention
/// weights [N, L, S] averaged over heads (or [N, heads, L, S]).
/// Checked against nn.MultiheadAttention (Python fixtures: init, outputs, weights, gradients, masks, dropout), aten::_native_multi_head_attention (forward) and a float64 gradient check, in MultiheadAttentionTests.
/// </summary>
public sealed class MultiheadAttention : Module<(Tensor Query, Tensor Key, Tensor Value), (Tensor Output, Tensor? Weights)>
{
    static readonly Op s_baddbmm = new("aten::baddbmm"), s_logicalOr = new("aten::logical_or");

    public long EmbedDim { get; }
    public long KDim { get; }
    public long VDim { get; }
    public long NumHeads { get; }
    public long HeadDim { get; }
    /// <summary>Dropout probability on the attention weights (train mode only).</summary>
    public double Dropout { get; }
    public bool BatchFirst { get; }
    public bool AddZeroAttn { get; }

    // Declared in PyTorch's registration order, so the state dict's order is PyTorch's.
    public Parameter? InProjWeight { get; }
    public Parameter? QProjWeight { get; }
    public Parameter? KProjWeight { get; }
    public Parameter? VProjWeight { get; }
    public Parameter? InProjBias { get; }
    public Parameter? BiasK { get; }
    public Parameter? BiasV { get; }
    public Linear OutProj { get; }

    bool SameEmbedDim => KDim == EmbedDim && VDim == EmbedDim;

    public MultiheadAttention(long embedDim, long numHeads, double dropout = 0, bool bias = true, bool addBiasKV = false, bool addZeroAttn = false,
        long? kdim = null, long? vdim = null, bool batchFirst = false, Device? device = null, ScalarType? dtype = null)
    {
        if (embedDim <= 0 || numHeads <= 0)
            throw new ArgumentOutOfRangeException(nameof(embedDim), $"MultiheadAttention: embed_dim ({embedDim}) and num_heads ({numHeads}) must be positive");
        if (embedDim % numHeads != 0)
            throw new ArgumentException($"MultiheadAttention: embed_dim ({embedDim}) must be divisible by num_heads ({numHeads})");
        if (!(dropout >= 0 && dropout <= 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), $"MultiheadAttention: dropout must be in [0, 1], got {dropout}");
        EmbedDim = embedDim;
        KDim = kdim ?? embedDim;
        VDim = vdim ?? embedDim;
        NumHeads = numHeads;
        HeadDim = embedDim / numHeads;
        Dropout = dropout;
        BatchFirst = batchFirst;
        AddZeroAttn = addZeroAttn;

        if (SameEmbedDim)
        {
            InProjWeight = Empty([3 * embedDim, embedDim], ParameterRole.Weight, device, dtype);
        }
        else
        {
            QProjWeight = Empty([embedDim, embedDim], ParameterRole.Weight, device, dtype);
            KProjWeight = Empty([embedDim, KDim], ParameterRole.Weight, device, dtype);
            VProjWeight = Empty([embedDim, VDim], ParameterRole.Weight, device, dtype);
        }
        if (bias) InProjBias = Empty([3 * embedDim], ParameterRole.Bias, device, dtype);
        OutProj = new Linear(embedDim, embedDim, bias, device, dtype);
        if (addBiasKV)
        {
            BiasK = Empty([1, 1, embedDim], ParameterRole.Bias, device, dtype);
            BiasV = Empty([1, 1, embedDim], ParameterRole.Bias, device, dtype);
        }
        ResetParameters();
    }

    static Parameter Empty(long[] shape, ParameterRole role, Device? device, ScalarType? dtype)
    {
        using var t = Torch.Empty(shape, dtype, device);
        return new Parameter(t, role: role);
    }

    /// <summary>PyTorch's _reset_parameters (out_proj's weight keeps its Linear initialization).</summary>
    public void ResetParameters()
    {
        if (SameEmbedDim) Init.XavierUniform_(InProjWeight!);
        else
        {
            Init.XavierUniform_(QProjWeight!);
            Init.XavierUniform_(KProjWeight!);
            Init.XavierUniform_(VProjWeight!);
        }
        if (InProjBias is not null)
        {
            Init.Constant_(InProjBias, 0.0);
            Init.Constant_(OutProj.Bias!, 0.0);
        }
        if (BiasK is not null) Init.XavierNormal_(BiasK);
        if (BiasV is not null) Init.XavierNormal_(BiasV);
    }

    /// <summary>Attention with the defaults: weights returned, averaged over heads, no masks.</summary>
    public override (Tensor Output, Tensor? Weights) Forward((Tensor Query, Tensor Key, Tensor Value) input) =>
        Forward(input.Query, input.Key, input.Value);

    /// <summary>Self-attention: query, key and value are all <paramref name="x"/>.</summary>
    public (Tensor Output, Tensor? Weights) Forward(Tensor x, Tensor? keyPaddingMask = null, bool needWeights = true, Tensor? attnMask = null,
        bool averageAttnWeights = true) =>
        Forward(x, x, x, keyPaddingMask, needWeights, attnMask, averageAttnWeights);

    /// <summary>
    /// Attends from <paramref name="query"/> to <paramref name="key"/>/<paramref name="value"/>.
    /// keyPaddingMask [N, S] (or [S] unbatched): true (or a float added to the scores) per key;
    /// attnMask [L, S] or [N·heads, L, S]: true = may not attend, or a float added to the scores.
    /// With needWeights the attention weights come back, averaged over heads unless averageAttnWeights is false.
    /// </summary>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null,
        bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true)
    {
        CheckShapes(query, key, value, keyPaddingMask, attnMask);
        bool isBatched = query.Dim == 3;
        using var scope = DisposeScope.Begin();
        Tensor q = query, k = key, v = value;
        if (BatchFirst && isBatched)
        {
            // Keep which of query, key and value are the same tensor: the in-projection depends on it.
            if (ReferenceEquals(key, value))
            {
                if (ReferenceEquals(query, key)) q = k = v = query.Transpose(1, 0);
                else
                {
                    q = query.Transpose(1, 0);
                    k = v = key.Transpose(1, 0);
                }
            }
            else
            {
                q = query.Transpose(1, 0);
                k = key.Transpose(1, 0);
                v = value.Transpose(1, 0);
            }
        }
        var (output, weights) = MultiHeadAttentionForward(q, k, v, isBatched, keyPaddingMask, needWeights, attnMask, averageAttnWeights);
        if (BatchFirst && isBatched) output = output.Transpose(1, 0);
        scope.MoveOut(output);
        if (weights is not null) scope.MoveOut(weights);
        return (output, weights);
    }

    /// <summary><see cref="Forward(Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, bool)"/> followed by the forward hooks.</summary>
    public (Tensor Output, Tensor? Weights) Call(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null,
        bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true)
    {
        var output = Forward(query, key, value, keyPaddingMask, needWeights, attnMask, averageAttnWeights);
        RunForwardHooks((query, key, value), output);
        return output;
    }

    string Name => $"MultiheadAttention(embed_dim={EmbedDim}, num_heads={NumHeads}" +
                   (SameEmbedDim ? "" : $", kdim={KDim}, vdim={VDim}") + (BatchFirst ? ", batch_first=True" : "") + ")";

    void CheckShapes(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, Tensor? attnMask)
    {
        long[] qs = query.Shape, ks = key.Shape, vs = value.Shape;
        string layout = query.Dim == 3 ? (BatchFirst ? "[N, L, E], key [N, S, kdim], value [N, S, vdim]" : "[L, N, E], key [S, N, kdim], value [S, N, vdim]")
            : "[L, E], key [S, kdim], value [S, vdim]";
        string got = $"got query {Repr.Shape(qs)}, key {Repr.Shape(ks)}, value {Repr.Shape(vs)}";
        if (qs.Length is not (2 or 3))
            throw new ArgumentException($"{Name}: expected a batched 3-d or unbatched 2-d query; {got}");
        bool batched = qs.Length == 3;
        if (ks.Length != qs.Length || vs.Length != qs.Length || qs[^1] != EmbedDim || ks[^1] != KDim || vs[^1] != VDim
            || !ks[..^1].SequenceEqual(vs[..^1]) || (batched && ks[BatchFirst ? 0 : 1] != qs[BatchFirst ? 0 : 1]))
            throw new ArgumentException($"{Name}: expected query {layout} with E={EmbedDim}, kdim={KDim}, vdim={VDim} and matching batch and source sizes; {got}");
        long batch = batched ? qs[BatchFirst ? 0 : 1] : 1, tgt = qs[batched && BatchFirst ? 1 : 0], src = ks[batched && BatchFirst ? 1 : 0];
        if (keyPaddingMask is not null)
        {
            var m = keyPaddingMask.Shape;
            long[] want = batched ? [batch, src] : [src];
            if (!m.SequenceEqual(want))
                throw new ArgumentException($"{Name}: expected key_padding_mask {Repr.Shape(want)} ({(batched ? "N, S" : "S")}), got {Repr.Shape(m)}; {got}");
            if (keyPaddingMask.DType != ScalarType.Bool && !keyPaddingMask.IsFloatingPoint)
                throw new ArgumentException($"{Name}: only bool and floating types of key_padding_mask are supported, got {keyPaddingMask.Describe()}");
        }
        if (attnMask is not null)
        {
            var m = attnMask.Shape;
            long[] want2 = [tgt, src], want3 = [batch * NumHeads, tgt, src];
            if (!m.SequenceEqual(want2) && !m.SequenceEqual(want3))
                throw new ArgumentException(
                    $"{Name}: expected attn_mask {Repr.Shape(want2)} (L, S) or {Repr.Shape(want3)} (N·num_heads, L, S), got {Repr.Shape(m)}; {got}");
            if (attnMask.DType is not (ScalarType.Bool or ScalarType.UInt8) && !attnMask.IsFloatingPoint)
                throw new ArgumentException($"{Name}: only float, byte, and bool types are supported for attn_mask, got {attnMask.Describe()}");
        }
    }

    /// <summary>torch.nn.functional.multi_head_attention_forward of PyTorch 1.13 over sequence-first
    /// [L, N, E] tensors (or unbatched [L, E]). Runs inside the caller's dispose scope.</summary>
    (Tensor Output, Tensor? Weights) MultiHeadAttentionForward(Tensor query, Tensor key, Tensor value, bool isBatched, Tensor? keyPaddingMask,
        bool needWeights, Tensor? attnMask, bool averageAttnWeights)
    {
        if (!isBatched)
        {
            // Separate unsqueezes: query, key and value are no longer the same tensor (as in PyTorch).
            query = query.Unsqueeze(1);
            key = key.Unsqueeze(1);
            value = value.Unsqueeze(1);
            keyPaddingMask = keyPaddingMask?.Unsqueeze(0);
        }
        long tgtLen = query.Size(0), bsz = query.Size(1), embedDim = query.Size(2), srcLen = key.Size(0);

        // In-projection.
        Tensor q, k, v;
        if (SameEmbedDim) (q, k, v) = InProjectionPacked(query, key, value, InProjWeight!, InProjBias);
        else
        {
            var b = InProjBias?.Chunk(3);
            q = Functional.Linear(query, QProjWeight!, b?[0]);
            k = Functional.Linear(key, KProjWeight!, b?[1]);
            v = Functional.Linear(value, VProjWeight!, b?[2]);
        }

        if (attnMask is not null)
        {
            if (attnMask.DType == ScalarType.UInt8) attnMask = attnMask.To(ScalarType.Bool);
            if (attnMask.Dim == 2) attnMask = attnMask.Unsqueeze(0);
        }

        if (BiasK is not null && BiasV is not null)
        {
            k = Torch.Cat([k, BiasK.Repeat(1, bsz, 1)]);
            v = Torch.Cat([v, BiasV.Repeat(1, bsz, 1)]);
            if (attnMask is not null) attnMask = Functional.Pad(attnMask, [0, 1]);
            if (keyPaddingMask is not null) keyPaddingMask = Functional.Pad(keyPaddingMask, [0, 1]);
        }

        // Heads into the batch dimension: [N·heads, L, head_dim].
        q = q.Contiguous().View(tgtLen, bsz * NumHeads, HeadDim).Transpose(0, 1);
        k = k.Contiguous().View(k.Size(0), bsz * NumHeads, HeadDim).Transpose(0, 1);
        v = v.Contiguous().View(v.Size(0), bsz * NumHeads, HeadDim).Transpose(0, 1);

        if (AddZeroAttn)
        {
            long[] zeroShape = [bsz * NumHeads, 1, HeadDim];
            k = Torch.Cat([k, Torch.Zeros(zeroShape, k.DType, k.Device)], 1);
            v = Torch.Cat([v, Torch.Zeros(zeroShape, v.DType, v.Device)], 1);
            if (attnMask is not null) attnMask = Functional.Pad(attnMask, [0, 1]);
            if (keyPaddingMask is not null) keyPaddingMask = Functional.Pad(keyPaddingMask, [0, 1]);
        }
        srcLen = k.Size(1);

        // Merge the key padding mask into the attention mask.
        if (keyPaddingMask is not null)
        {
            keyPaddingMask = keyPaddingMask.View(bsz, 1, 1, srcLen).Expand(-1, NumHeads, -1, -1).Reshape(bsz * NumHeads, 1, srcLen);
            if (attnMask is null) attnMask = keyPaddingMask;
            else if (attnMask.DType == ScalarType.Bool) attnMask = s_logicalOr.Call(attnMask, keyPaddingMask);
            else attnMask = attnMask.MaskedFill(keyPaddingMask, double.NegativeInfinity);
        }
        if (attnMask is not null && attnMask.DType == ScalarType.Bool)
        {
            var floatMask = Torch.ZerosLike(attnMask, q.DType);
            floatMask.MaskedFill_(attnMask, double.NegativeInfinity);
            attnMask = floatMask;
        }
        double dropoutP = Training ? Dropout : 0.0;

        // Scaled dot-product attention.
        var qScaled = q.Div(Math.Sqrt(q.Size(2)));
        var kT = k.Transpose(-2, -1);
        var scores = attnMask is not null ? s_baddbmm.Call(attnMask, qScaled, kT) : qScaled.Bmm(kT);
        var attn = scores.Softmax(-1);
        if (dropoutP > 0) attn = Functional.Dropout(attn, dropoutP, true);
        var output = attn.Bmm(v);
        output = output.Transpose(0, 1).Contiguous().View(tgtLen * bsz, embedDim);
        output = Functional.Linear(output, OutProj.Weight, OutProj.Bias);
        output = output.View(tgtLen, bsz, output.Size(1));

        Tensor? weights = null;
        if (needWeights)
        {
            weights = attn.View(bsz, NumHeads, tgtLen, srcLen);
            if (averageAttnWeights) weights = weights.Sum(1).Div(NumHeads);
            if (!isBatched) weights = weights.Squeeze(0);
        }
        if (!isBatched) output = output.Squeeze(1);
        return (output, weights);
    }

    /// <summary>PyTorch's _in_projection_packed: one matrix product when query, key and value are
    /// the same tensor, two when key and value are, else three.</summary>
    static (Tensor Q, Tensor K, Tensor V) InProjectionPacked(Tensor q, Tensor k, Tensor v, Tensor w, Tensor? b)
    {
        long e = q.Size(-1);
        if (ReferenceEquals(k, v))
        {
            if (ReferenceEquals(q, k))
            {
                var qkv = Functional.Linear(q, w, b).Chunk(3, -1);
                return (qkv[0], qkv[1], qkv[2]);
            }
            var ws = w.Split([e, 2 * e]);
            var bs = b?.Split([e, 2 * e]);
            var kv = Functional.Linear(k, ws[1], bs?[1]).Chunk(2, -1);
            return (Functional.Linear(q, ws[0], bs?[0]), kv[0], kv[1]);
        }
        var w3 = w.Chunk(3);
        var b3 = b?.Chunk(3);
        return (Functional.Linear(q, w3[0], b3?[0]), Functional.Linear(k, w3[1], b3?[1]), Functional.Linear(v, w3[2], b3?[2]));
    }
}
