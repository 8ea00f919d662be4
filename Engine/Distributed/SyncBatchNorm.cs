using Engine.Normalization;

namespace Engine.Distributed;

/// <summary>
/// Synchronized batch normalization (PyTorch's <c>nn.SyncBatchNorm</c>, torch/nn/modules/batchnorm.py
/// and torch/nn/modules/_functions.py): in training, every rank normalizes its part of the batch with
/// the mean and variance of the <b>whole</b> batch, the union of every rank's part, so N ranks of
/// n samples each train as one process with a batch of N·n would (the seed's BatchNorm, with
/// m = Σ_r m_r values per channel over the ranks):
/// <code>
/// s1_j = Σ_local x_ij,  s2_j = Σ_local x_ij²,  m_r     per-rank sums and count, packed [s1, s2, m_r] : 2C + 1
/// [S1, S2, m] = AllReduce(Sum) of the packed sums  ONE collective per forward
/// μ_j  = S1_j / m                                   global mean
/// σ²_j = S2_j / m − μ_j²                            global variance (biased: 1/m)
/// y_ij = γ_j · (x_ij − μ_j) / √(σ²_j + ε) + β_j
/// running_var ← (1 − f) · running_var + f · σ²_j · m/(m − 1)   (unbiased over the whole batch)
/// </code>
/// The sums travel as <b>float64</b> whatever the input's dtype: the one-pass variance S2/m − μ² loses
/// log10(1 + μ²/σ²) digits to cancellation, which float32 sums cannot spare for channels whose mean is
/// far from 0, while float64 sums of float32 inputs are exact up to m·2⁻⁵³ relative (x² of a float32 is
/// exact in float64). The cost is one float64 copy of a non-float64 input per forward.
/// All-reducing sums, not PyTorch's all-gathered (mean, invstd, count) triples, makes uneven and
/// empty per-rank batches need nothing special: an empty rank adds zeros.
/// <para><b>Gradient.</b> The all-reduce is a differentiable function (<c>AllReduceSum</c>, a
/// TorchSharp custom autograd function) whose backward all-reduces (sums) its gradient: with the total
/// loss L = Σ_r L_r and S = Σ_r s_r on every rank, ∂L/∂s_r = ∂L/∂S = Σ_r ∂L_r/∂S, which is exactly the
/// sum over ranks of each rank's local gradient of S. Autograd does the rest through the sums
/// (∂s1/∂x = 1, ∂s2/∂x = 2x), so x's gradient is the full-batch BatchNorm gradient, with the global
/// sums of dy and dy·x̂ that PyTorch all-reduces in its backward folded into ∂L/∂S: one all-reduce of
/// 2C + 1 values per backward. γ and β enter each rank's output locally, so their gradients are the
/// local ones (PyTorch's choice: the data-parallel gradient reduction averages them with the others).
/// Every rank whose input requires grad must run backward (as in PyTorch).</para>
/// <para><b>Without synchronization</b>, the layer is exactly Engine's <see cref="BatchNorm"/> (the
/// same code): in eval with running statistics (they are equal on every rank, so there is nothing to
/// share), in eval without them (local batch statistics, as PyTorch's <c>need_sync</c>), and when
/// the group is null (no <see cref="ProcessGroup.Current"/>) or has one rank. The running statistics
/// are computed from the all-reduced sums and so are identical on every rank.
/// <see cref="BatchNorm.UseFusedKernel"/> applies only there (the synchronized path is the formula
/// above); <see cref="BatchNorm.GhostBatchSize"/> contradicts synchronization and is refused in it.
/// Being a <see cref="BatchNorm"/>, an eval-mode SyncBatchNorm folds like one (<see cref="BatchNormFolding"/>).</para>
/// <para>Parameters and buffers are <see cref="BatchNorm"/>'s (<c>weight</c>, <c>bias</c>,
/// <c>running_mean</c>, <c>running_var</c>, <c>num_batches_tracked</c>), so a BatchNorm's state_dict
/// loads into a SyncBatchNorm and back; <see cref="Convert"/> swaps a model's BatchNorms for
/// SyncBatchNorms. Input: (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W). Checked against
/// TorchSharp's nn.BatchNorm1d/2d on the full batch, across 2 MPI ranks, in
/// Engine.Tests/Distributed/SyncBatchNormTests.</para>
/// </summary>
public sealed partial class SyncBatchNorm : BatchNorm
{
    /// <param name="process_group">The ranks to synchronize over; null: <see cref="ProcessGroup.Current"/>
    /// at each forward (none: no synchronization).</param>
    public SyncBatchNorm(long num_features, double eps = 1e-5, double? momentum = 0.1, bool affine = true,
        bool track_running_stats = true, ProcessGroup? process_group = null, Device? device = null, ScalarType? dtype = null)
        : base(nameof(SyncBatchNorm), num_features, eps, momentum, affine, track_running_stats, device, dtype)
    {
        this.process_group = process_group;
    }

    /// <summary>The ranks whose batches form the whole batch; null: <see cref="ProcessGroup.Current"/>.</summary>
    public ProcessGroup? process_group { get; set; }

    protected override (long[] Ranks, string Expected) InputRanks =>
        ([2, 3, 4, 5], "a (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W) input");

    public override Tensor forward(Tensor input)
    {
        var group = process_group ?? ProcessGroup.Current;
        // PyTorch's need_sync: batch statistics in training, over more than one rank.
        if (!training || group is null || group.WorldSize == 1) return base.forward(input);

        CheckInput(input);
        if (GhostBatchSize is not null)
            throw new InvalidOperationException($"{GetName()}: GhostBatchSize ({GhostBatchSize}) normalizes small batches on their own, the opposite of synchronizing the whole batch across ranks; set it to null");
        return Synchronized(input, group);
    }

    Tensor Synchronized(Tensor input, ProcessGroup group)
    {
        var name = GetName();
        long C = num_features;
        var localCount = input.numel() / C;
        using var scope = NewDisposeScope();

        long[] dims = [0, .. NormChecks.Range(2, input.dim())];
        // This rank's mean μ_r and biased variance σ²_r, two-pass in the input's dtype as Engine's
        // BatchNorm computes them (libtorch's var_mean over the non-adjacent dims (0, 2, …) ran 3x
        // slower here); x − μ_r is kept for x̂. An empty part contributes zeros with weight 0,
        // still attached to the graph so its backward joins the backward collective.
        var shape = NormChecks.ChannelShape(C, input.dim());
        Tensor centered, localMean, localVar;
        if (localCount > 0)
        {
            var mr = input.mean(dims, keepdim: true);
            centered = input.sub(mr);                                          // x − μ_r
            localVar = centered.square().mean(dims);
            localMean = mr.reshape(C).to(ScalarType.Float64);
        }
        else
        {
            centered = input;
            localMean = input.sum(dims).to(ScalarType.Float64);
            localVar = input.sum(dims);
        }
        var local = cat([localMean, localVar.to(ScalarType.Float64), full(1, (double)localCount, ScalarType.Float64, input.device)]);
        var all = AllGatherRows.Apply(local, group);                      // [ranks, 2C + 1], equal on every rank

        var n = all[TensorIndex.Colon, TensorIndex.Slice(2 * C, 2 * C + 1)];   // m_r, [ranks, 1]
        var m = n.sum();
        // Only a rank with at most one value per channel can belong to a whole batch of one value, and
        // then every such rank sees it in the gathered counts: they all throw, after the collective.
        if (localCount <= 1 && m.item<double>() <= 1)
            throw new ArgumentException($"{name}: expected more than 1 value per channel when training, got {m.item<double>()} over the {group.WorldSize} ranks' batches (this rank's input: {NormChecks.Shape(input)}): the batch variance would be 0 and its unbiased estimate undefined", nameof(input));
        var means = all[TensorIndex.Colon, TensorIndex.Slice(0, C)];
        // sum(0L), not sum(0): TorchSharp 0.107's literal 0 binds to sum(ScalarType? type) as Byte.
        var mean = n.mul(means).sum(0L).div(m);                                  // μ_j = Σ_r m_r μ_rj / m
        var spread = all[TensorIndex.Colon, TensorIndex.Slice(C, 2 * C)].add(means.sub(mean).square());
        var variance = n.mul(spread).sum(0L).div(m);                             // σ²_j = Σ_r m_r (σ²_rj + (μ_rj − μ_j)²) / m

        if (track_running_stats)
        {
            num_batches_tracked!.add_(1);
            var factor = momentum ?? 1.0 / num_batches_tracked.item<long>();
            using var _ = no_grad();
            var unbiased = variance.mul(m).div(m.sub(1));              // σ² · m/(m − 1)
            running_mean!.mul_(1 - factor).add_(mean.to(running_mean.dtype), alpha: factor);
            running_var!.mul_(1 - factor).add_(unbiased.to(running_var.dtype), alpha: factor);
        }

        // x̂ = (x − μ)/√(σ² + ε) = ((x − μ_r) − (μ − μ_r))/√(σ² + ε): μ − μ_r is formed in float64, and
        // the subtraction comes before the scaling (x·s − μ·s would cancel for channels whose mean
        // dwarfs their spread). Then y = β + γ·x̂ in one fused pass (addcmul).
        var centre = mean.sub(localMean).to(input.dtype).view(shape);
        var invstd = variance.add(eps).rsqrt().to(input.dtype).view(shape);
        var xhat = centered.sub(centre).mul(invstd);
        var y = affine ? bias!.view(shape).addcmul(xhat, weight!.view(shape), 1) : xhat;
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>All-gathers each rank's packed statistics as a differentiable function. With the
    /// total loss L = Σ_r L_r and every rank holding the same gathered rows G, rank r's own row
    /// s_r = G[r] gets ∂L/∂s_r = Σ_r' ∂L_r'/∂G[r]: the backward all-reduces (sums) the gradient of
    /// G and keeps row r. One all-reduce of ranks × (2C + 1) values per backward.</summary>
    sealed class AllGatherRows : autograd.SingleTensorFunction<AllGatherRows>
    {
        public override string Name => nameof(AllGatherRows);

        public static Tensor Apply(Tensor local, ProcessGroup group)
        {
            if (!(local.requires_grad && is_grad_enabled())) return group.AllGather(local.detach().contiguous());
            return apply(local, group);
        }

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var group = (ProcessGroup)vars[1];
            ctx.save_data("group", group);
            return group.AllGather(((Tensor)vars[0]).contiguous());
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            var group = (ProcessGroup)ctx.get_data("group");
            var grad = grad_output.contiguous().clone();
            group.AllReduce(grad, ReduceOp.Sum);
            return [grad[group.Rank], null!];   // one entry per forward argument; the group has no gradient
        }
    }
}
