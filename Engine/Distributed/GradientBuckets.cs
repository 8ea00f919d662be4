namespace Engine.Distributed;

/// <summary>
/// The gradient buckets of data-parallel training (PyTorch DDP's <c>Reducer</c>): the trainable
/// parameters, grouped by (dtype, device) and taken in reverse registration order (the order
/// backward produces their gradients), are cut into buckets of at most <c>bucketBytes</c> (a
/// parameter larger than a bucket gets one of its own). Each bucket owns one flat contiguous
/// buffer, made once, and a view of it per member; a step is
/// <code>
/// for each bucket:  slice_i ← p_i.grad  (zeros where p_i has none);  start AllReduce(flat, Average)
/// for each bucket:  wait;  p_i.grad ← slice_i
/// </code>
/// so every bucket's all-reduce is in flight at once and a step allocates no tensor. (PyTorch
/// closes a bucket once it reaches the cap, so its buckets overshoot by up to one parameter, and
/// caps the first at 1 MiB; here every bucket stays within the cap.)
/// <para>CPU MPI cannot reduce float16 or bfloat16: their buckets are float32 (the copies convert;
/// the average is then rounded once to the parameter's dtype). Gradients that are themselves views
/// of another flat buffer (<see cref="Engine.Optim.FlatGroup"/>) are copied like any other.</para>
/// </summary>
internal sealed class GradientBuckets : IDisposable
{
    sealed class Bucket(Parameter[] members, Tensor flat, Tensor[] slices)
    {
        public readonly Parameter[] Members = members;
        public readonly Tensor Flat = flat;
        public readonly Tensor[] Slices = slices; // Slices[i]: Members[i]'s part of Flat, in its shape
        public readonly Work Work = new();
        public bool InFlight;
    }

    // Buffers MPI may still write into after a failed step: kept reachable so that neither
    // Dispose nor a finalizer frees them under MPI (the group is unusable then; the process should end).
    static readonly List<Tensor> Abandoned = [];

    readonly Bucket[] _buckets;
    readonly Parameter[] _parameters; // every trainable one, in registration order
    bool _disposed;

    /// <summary>Elements per bucket, in all-reduce order.</summary>
    public IReadOnlyList<long> Sizes { get; }

    public GradientBuckets(IReadOnlyList<Parameter> parameters, long bucketBytes)
    {
        var buckets = new List<Bucket>();
        _parameters = parameters.Where(p => p.requires_grad).ToArray();
        var order = _parameters.Reverse().ToList();
        foreach (var group in order.GroupBy(p => (p.dtype, p.device.ToString())))
        {
            var dtype = BufferType(group.First());
            long elementBytes;
            using (var probe = empty(0, dtype)) elementBytes = probe.ElementSize;
            var members = new List<Parameter>();
            long bytes = 0;
            foreach (var p in group)
            {
                long size = p.numel() * elementBytes;
                if (members.Count > 0 && bytes + size > bucketBytes)
                {
                    buckets.Add(Make(members.ToArray(), dtype));
                    members.Clear();
                    bytes = 0;
                }
                members.Add(p);
                bytes += size;
            }
            if (members.Count > 0) buckets.Add(Make(members.ToArray(), dtype));
        }
        _buckets = buckets.ToArray();
        Sizes = _buckets.Select(b => b.Flat.numel()).ToArray();
    }

    /// <summary>The bucket's dtype: the parameter's, except float16/bfloat16 on the CPU (MPI cannot sum them).</summary>
    static ScalarType BufferType(Parameter p) =>
        p.device_type == DeviceType.CPU && p.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : p.dtype;

    static Bucket Make(Parameter[] members, ScalarType dtype)
    {
        long total = members.Sum(p => p.numel());
        var flat = zeros(total, dtype, members[0].device).DetachFromDisposeScope();
        var slices = new Tensor[members.Length];
        long offset = 0;
        for (int i = 0; i < members.Length; i++)
        {
            long n = members[i].numel();
            using (var piece = flat.narrow(0, offset, n))
                slices[i] = piece.view(members[i].shape).DetachFromDisposeScope();
            offset += n;
        }
        return new Bucket(members, flat, slices);
    }

    /// <summary>Whether <paramref name="parameters"/>' trainable ones are the very objects the
    /// buckets were made for (<c>module.to</c> replaces a module's Parameter objects).</summary>
    public bool Holds(IEnumerable<Parameter> parameters)
    {
        int i = 0;
        foreach (var p in parameters)
        {
            if (!p.requires_grad) continue;
            if (i >= _parameters.Length || !ReferenceEquals(p, _parameters[i])) return false;
            i++;
        }
        return i == _parameters.Length;
    }

    /// <summary>Throws, before any collective, when a gradient cannot go through a bucket: a sparse
    /// gradient (an <c>Embedding(sparse: true)</c>), or one whose shape is not its parameter's
    /// (a copy into the slice would broadcast it silently).</summary>
    public void Validate()
    {
        foreach (var b in _buckets)
            foreach (var p in b.Members)
            {
                using var g = p.grad;
                if (g is null) continue;
                if (g.is_sparse)
                    throw new NotSupportedException($"DataParallel: a parameter of shape [{string.Join(", ", p.shape)}] has a sparse gradient; the gradient buckets average dense gradients only (use a dense Embedding)");
                if (!g.shape.SequenceEqual(p.shape))
                    throw new InvalidOperationException($"DataParallel: a parameter of shape [{string.Join(", ", p.shape)}] has a gradient of shape [{string.Join(", ", g.shape)}]; a gradient must have its parameter's shape");
            }
    }

    /// <summary>Averages every member's gradient over the group's ranks: posts every bucket's
    /// all-reduce, then waits for each and copies the averages back. A member without a gradient
    /// contributes zeros and receives the average as a new gradient of its own (a copy, not a view
    /// of the bucket: the parameter owns it, and the next step's copy-in never aliases the bucket).</summary>
    public void AllReduce(ProcessGroup group)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            using var noGrad = no_grad();
            foreach (var b in _buckets)
            {
                for (int i = 0; i < b.Members.Length; i++)
                {
                    using var g = b.Members[i].grad;
                    if (g is null) b.Slices[i].zero_();
                    else b.Slices[i].copy_(g);
                }
                b.InFlight = true;
                group.AllReduceAsync(b.Flat, ReduceOp.Average, b.Work);
            }
            foreach (var b in _buckets)
            {
                b.Work.Wait();
                b.InFlight = false;
                for (int i = 0; i < b.Members.Length; i++)
                {
                    var p = b.Members[i];
                    using var g = p.grad;
                    if (g is not null) { g.copy_(b.Slices[i]); continue; }
                    using var fresh = b.Slices[i].to(p.dtype, copy: true);
                    p.grad = fresh;
                }
            }
        }
        catch
        {
            Abandon();
            throw;
        }
    }

    void Abandon()
    {
        lock (Abandoned)
            foreach (var b in _buckets)
                if (b.InFlight) Abandoned.Add(b.Flat);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var b in _buckets)
        {
            foreach (var s in b.Slices) s.Dispose();
            if (!b.InFlight) b.Flat.Dispose(); // in flight: Abandoned holds it
        }
    }
}
