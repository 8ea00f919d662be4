namespace Engine.Distributed;

/// <summary>
/// Data-parallel training (PyTorch's <c>DistributedDataParallel</c>): every rank holds a replica
/// of the model and trains on its own shard of each batch; the replicas stay identical because
/// they start identical and take the same step from the same gradient,
/// <code>
/// start:          θ ← θ of rank 0                                (parameters and buffers, broadcast)
/// every step:     g ← (1/N) Σ_r g_r                              (all-reduce Average over the N ranks)
/// </code>
/// which, with a mean loss over equal shards, is the gradient of the mean loss over the whole
/// batch: N ranks of batch B train as one process of batch N·B.
/// <para><b>Buckets.</b> Gradients are averaged in buckets of <see cref="BucketBytes"/> (PyTorch's
/// <c>bucket_cap_mb</c>, 25 MiB), laid out in reverse parameter order as PyTorch's reducer does
/// (see <see cref="GradientBuckets"/>). PyTorch starts a bucket's all-reduce from gradient hooks
/// as soon as backward has filled it, overlapping communication with the rest of backward.
/// TorchSharp 0.107 has no tensor gradient hooks (checked in the installed DLL: its names hold
/// <c>register_forward_hook</c> and <c>register_forward_pre_hook</c> only, no
/// <c>Tensor.register_hook</c>, <c>register_post_accumulate_grad_hook</c> or backward hook, and
/// libLibTorchSharp exports no THS function that registers one), so <see cref="SynchronizeGradients"/>
/// runs right after backward: it posts every bucket's nonblocking all-reduce, in that order,
/// then waits for all of them. Buckets still pay off: a few large messages instead of one per
/// parameter, all in flight together (the first step checks each bucket's signature across the
/// ranks; later steps skip that round trip).</para>
/// <para><b>Unused parameters.</b> A parameter that has no <c>.grad</c> on a rank (it took no
/// part in that rank's forward) counts as a zero gradient there, and every rank's copy gets the
/// average, so the replicas stay identical without PyTorch's <c>find_unused_parameters</c> (which
/// PyTorch DDP needs because its hooks would otherwise wait for that gradient forever).</para>
/// <para>The module's forward is called directly (this class does not wrap it); shard the data
/// with <see cref="Engine.Data.DistributedSampler"/>. Buffers (BatchNorm's running statistics)
/// are broadcast at the start only, not every forward as PyTorch's <c>broadcast_buffers</c> does.</para>
/// </summary>
public sealed class DataParallel : IDisposable
{
    /// <summary>PyTorch DDP's default <c>bucket_cap_mb = 25</c>.</summary>
    public const long DefaultBucketBytes = 25L << 20;

    GradientBuckets _buckets;
    bool _firstSync = true;
    bool _disposed;

    /// <summary>The replica this rank trains.</summary>
    public nn.Module Module { get; }
    /// <summary>The ranks that train together.</summary>
    public ProcessGroup Group { get; }
    /// <summary>The most bytes one bucket's buffer holds (unless a single parameter is larger).</summary>
    public long BucketBytes { get; }
    /// <summary>The number of buckets (one all-reduce each per step).</summary>
    public int BucketCount => _buckets.Sizes.Count;
    /// <summary>Elements per bucket, in all-reduce order.</summary>
    public IReadOnlyList<long> BucketSizes => _buckets.Sizes;

    /// <summary>
    /// Wraps <paramref name="model"/> for data-parallel training over <paramref name="group"/>
    /// and makes every rank's parameters and buffers rank 0's (every rank must call it, with the
    /// same architecture). With <see cref="Engine.Precision.MixedPrecision"/>, either order works
    /// when the step goes through <see cref="DataParallelStep"/>, which broadcasts the fp32 masters.
    /// </summary>
    /// <param name="group">null: <see cref="ProcessGroup.Current"/> (call <see cref="ProcessGroup.Init"/> first).</param>
    /// <param name="bucketBytes">The bucket capacity in bytes, &gt; 0.</param>
    public DataParallel(nn.Module model, ProcessGroup? group = null, long bucketBytes = DefaultBucketBytes)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (bucketBytes <= 0)
            throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, "DataParallel: bucketBytes must be positive (PyTorch's default is 25 MiB, DataParallel.DefaultBucketBytes)");
        var parameters = model.parameters().ToList();
        if (parameters.Count == 0)
            throw new ArgumentException($"DataParallel: the model ({model.GetType().Name}) has no parameters; there are no gradients to average", nameof(model));
        if (!parameters.Any(p => p.requires_grad))
            throw new ArgumentException($"DataParallel: none of the model's {parameters.Count} parameters requires grad; there are no gradients to average", nameof(model));
        Group = group ?? ProcessGroup.Current
            ?? throw new InvalidOperationException("DataParallel: no process group; call ProcessGroup.Init() first (in every rank) or pass a group");
        Module = model;
        BucketBytes = bucketBytes;
        BroadcastState(0);
        _buckets = new GradientBuckets(parameters, bucketBytes);
    }

    /// <summary>
    /// Averages every trainable parameter's <c>.grad</c> over the ranks (the bucket path; see the
    /// class summary). Call it on every rank after the last backward of an optimizer step, before
    /// unscaling, clipping and stepping. The first call checks every gradient (dense, of its
    /// parameter's shape) and each bucket's all-reduce across the ranks
    /// (<see cref="ProcessGroup.CheckCollectives"/>) whatever the group's setting, so replicas
    /// whose layouts differ fail with a clear error; later calls skip the per-bucket signature
    /// round trip (the layout cannot change), as PyTorch's DDP checks once. When the module's Parameter objects were
    /// replaced since construction (a <c>module.to</c>, <see cref="Engine.Precision.MixedPrecision"/>'s
    /// cast) the first call re-buckets the current ones; replacing them later is not supported.
    /// </summary>
    public void SynchronizeGradients()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_firstSync)
        {
            // The layout was checked across the ranks on the first step and cannot change: skip
            // the per-bucket signature round trip (PyTorch's DDP checks once, at construction).
            bool check = Group.CheckCollectives;
            Group.CheckCollectives = false;
            try { _buckets.AllReduce(Group); }
            finally { Group.CheckCollectives = check; }
            return;
        }
        var parameters = Module.parameters().ToList();
        if (!_buckets.Holds(parameters))
        {
            // The module's Parameter objects were replaced after construction (module.to, or
            // MixedPrecision's cast): bucket the current ones. Their values came from the
            // broadcast ones, so the replicas still agree.
            var rebuilt = new GradientBuckets(parameters, BucketBytes);
            _buckets.Dispose();
            _buckets = rebuilt;
        }
        _buckets.Validate();
        Checked(() => _buckets.AllReduce(Group));
        _firstSync = false;
    }

    /// <summary>Overwrites every parameter and buffer with rank <paramref name="root"/>'s, in place
    /// (at the start, and after a resume when only one rank loaded the checkpoint). The
    /// optimizer's state is not the module's: restore it on every rank from the same checkpoint.
    /// Each broadcast is checked across the ranks whatever <see cref="ProcessGroup.CheckCollectives"/>
    /// says (it runs rarely), so replicas of different architectures fail with a clear error.</summary>
    public void BroadcastState(int root = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (root < 0 || root >= Group.WorldSize)
            throw new ArgumentOutOfRangeException(nameof(root), root, $"DataParallel.BroadcastState: root must lie in [0, {Group.WorldSize})");
        Broadcast(Module.parameters().Cast<Tensor>().Concat(Module.buffers()), root);
    }

    /// <summary>Overwrites every buffer (BatchNorm's running statistics) with rank
    /// <paramref name="root"/>'s, in place: PyTorch's <c>broadcast_buffers</c>, which DDP does
    /// before every forward; the Trainer does it once per epoch, before validation, so every rank
    /// evaluates (and rank 0 saves) the same model. Plain BatchNorm's running statistics follow
    /// each rank's shard in between (SyncBatchNorm's are equal on every rank anyway).</summary>
    public void BroadcastBuffers(int root = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (root < 0 || root >= Group.WorldSize)
            throw new ArgumentOutOfRangeException(nameof(root), root, $"DataParallel.BroadcastBuffers: root must lie in [0, {Group.WorldSize})");
        Broadcast(Module.buffers(), root);
    }

    /// <summary>Overwrites each tensor with rank <paramref name="root"/>'s, in place, checked.</summary>
    internal void Broadcast(IEnumerable<Tensor> tensors, int root)
    {
        Checked(() =>
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            foreach (var t in tensors)
            {
                if (t.is_contiguous())
                {
                    Group.Broadcast(t, root); // MPI writes the tensor's memory: in place
                    continue;
                }
                var dense = t.contiguous();
                Group.Broadcast(dense, root);
                t.copy_(dense);
            }
        });
    }

    /// <summary>Runs <paramref name="collectives"/> with the group's call check on, then restores the user's setting.</summary>
    void Checked(Action collectives)
    {
        bool check = Group.CheckCollectives;
        Group.CheckCollectives = true;
        try { collectives(); }
        finally { Group.CheckCollectives = check; }
    }

    /// <summary>Frees the bucket buffers (the model is the caller's).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _buckets.Dispose();
    }
}
