namespace Engine.Nn;

/// <summary>
/// A lookup table (nn.Embedding): integer indices of any shape [*] give rows of the weight,
/// [*, embedding_dim]. Weight [num_embeddings, embedding_dim] starts as N(0, 1) (PyTorch's
/// default), with the padding_idx row zeroed; that row receives no gradient. With maxNorm, rows
/// looked up are first renormalized in place to norm ≤ maxNorm (p-norm, normType), as PyTorch does.
/// Checked against nn.Embedding (Python fixtures: init, outputs, gradients, max_norm renorm) and aten::embedding, in EmbeddingTests.
/// </summary>
public sealed class Embedding : Module<Tensor, Tensor>
{
    static readonly Op s_renorm_ = new("aten::embedding_renorm_");

    public long NumEmbeddings { get; }
    public long EmbeddingDim { get; }
    /// <summary>The row that gets no gradient (non-negative: a negative index given to the
    /// constructor counts from the end).</summary>
    public long? PaddingIdx { get; }
    public double? MaxNorm { get; }
    public double NormType { get; }
    public bool ScaleGradByFreq { get; }
    public Parameter Weight { get; }

    public Embedding(long numEmbeddings, long embeddingDim, long? paddingIdx = null, double? maxNorm = null, double normType = 2,
        bool scaleGradByFreq = false, Device? device = null, ScalarType? dtype = null)
        : this(numEmbeddings, embeddingDim, paddingIdx, maxNorm, normType, scaleGradByFreq, null, device, dtype)
    {
    }

    Embedding(long numEmbeddings, long embeddingDim, long? paddingIdx, double? maxNorm, double normType, bool scaleGradByFreq,
        Tensor? weight, Device? device, ScalarType? dtype)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(numEmbeddings), $"Embedding({numEmbeddings}, {embeddingDim}): sizes must be positive");
        if (paddingIdx is long p)
        {
            if (p >= numEmbeddings || p < -numEmbeddings)
                throw new ArgumentOutOfRangeException(nameof(paddingIdx),
                    $"Embedding({numEmbeddings}, {embeddingDim}): padding_idx {p} must be within num_embeddings ([-{numEmbeddings}, {numEmbeddings - 1}])");
            if (p < 0) paddingIdx = numEmbeddings + p;
        }
        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
        PaddingIdx = paddingIdx;
        MaxNorm = maxNorm;
        NormType = normType;
        ScaleGradByFreq = scaleGradByFreq;
        if (weight is null)
        {
            using (var w = Torch.Empty([numEmbeddings, embeddingDim], dtype, device))
                Weight = new Parameter(w, role: ParameterRole.Embedding);
            ResetParameters();
        }
        else
        {
            Weight = new Parameter(weight, role: ParameterRole.Embedding);
        }
    }

    /// <summary>An embedding holding (sharing the storage of) <paramref name="embeddings"/>
    /// [num_embeddings, embedding_dim] (Embedding.from_pretrained); frozen unless told otherwise.</summary>
    public static Embedding FromPretrained(Tensor embeddings, bool freeze = true, long? paddingIdx = null, double? maxNorm = null,
        double normType = 2, bool scaleGradByFreq = false)
    {
        if (embeddings.Dim != 2)
            throw new ArgumentException($"Embedding.FromPretrained: embeddings must be 2-d [num_embeddings, embedding_dim], got {Repr.Shape(embeddings.Shape)}");
        var e = new Embedding(embeddings.Size(0), embeddings.Size(1), paddingIdx, maxNorm, normType, scaleGradByFreq, embeddings, null, null);
        e.Weight.RequiresGrad = !freeze;
        return e;
    }

    /// <summary>N(0, 1), then the padding row set to zero (PyTorch's reset_parameters).</summary>
    public void ResetParameters()
    {
        Init.Normal_(Weight);
        if (PaddingIdx is long p)
            using (Torch.NoGrad())
            using (var row = Weight.Select(0, p))
                row.Fill_(0.0);
    }

    public override Tensor Forward(Tensor input)
    {
        var dtype = input.DType;
        if (dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"{this}: expected integer indices (int64 or int32) of any shape, got {input.Describe()}");
        if (MaxNorm is double maxNorm)
        {
            // embedding_renorm_ makes the indices contiguous anyway; do it once for both calls.
            using var contiguous = input.Contiguous();
            using (Torch.NoGrad()) s_renorm_.CallInPlace(Weight, contiguous, maxNorm, NormType);
            return Lookup(contiguous, input);
        }
        return Lookup(input, input);
    }

    Tensor Lookup(Tensor indices, Tensor input)
    {
        try
        {
            return Functional.Embedding(Weight, indices, PaddingIdx ?? -1, ScaleGradByFreq);
        }
        catch (TorchException e) when (e.Message.Contains("index out of range", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"{this}: indices must lie in [0, {NumEmbeddings - 1}]; input {input.Describe()} holds one outside", e);
        }
    }

    public override string ExtraRepr()
    {
        var s = $"{NumEmbeddings}, {EmbeddingDim}";
        if (PaddingIdx is long p) s += $", padding_idx={p}";
        if (MaxNorm is double m) s += $", max_norm={Repr.Float(m)}";
        if (NormType != 2) s += $", norm_type={Repr.Float(NormType)}";
        if (ScaleGradByFreq) s += ", scale_grad_by_freq=True";
        return s;
    }
}
