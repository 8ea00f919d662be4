namespace Engine.Averaging;

/// <summary>What <see cref="Ensemble"/> averages.</summary>
public enum EnsembleAverage
{
    /// <summary>The mean of the members' class probabilities, softmax(logits) along the class dim:
    /// the ensemble's predictive distribution (the default; snapshot and deep ensembles average
    /// these). The output is probabilities, not logits.</summary>
    Probabilities = 0,
    /// <summary>The mean of the members' raw outputs (logits, or regression values): for regression,
    /// or when a normalised geometric mean of the probabilities is wanted (softmax of the mean logit).</summary>
    Logits = 1,
}

/// <summary>
/// A model ensemble (the seeds' "kết hợp nhiều mô hình"): several models trained independently, or
/// snapshots of one model during training, whose predictions are combined at test time (usually +2%
/// accuracy, the seed says):
/// <code>
/// Probabilities:  p(y | x) = (1/M) Σ_m softmax(f_m(x))      (default)
/// Logits:         z(x)     = (1/M) Σ_m f_m(x)
/// </code>
/// Probabilities by default because the mean of the members' predictive distributions is the
/// ensemble's distribution (a mixture, Huang et al. 2017's snapshot ensembles, Lakshminarayanan et
/// al. 2017's deep ensembles): a member that is confidently wrong pulls it by at most 1/M, while
/// averaging logits lets one member with large logits dominate. Feed the output to an NLL of its log,
/// or take argmax.
/// <para>
/// Two kinds of members: separate modules (registered as submodules, so train/eval, <c>to(device)</c>
/// and state_dict reach them), or one module and weight snapshots (<see cref="FromSnapshots"/>,
/// what <see cref="SnapshotEnsemble"/> collects), which the forward copies into the module one after
/// the other, restoring its own weights at the end; that path runs in no_grad (prediction only).
/// Members must share one architecture (same parameter and buffer names and shapes) unless built
/// with <c>requireSameArchitecture: false</c> (a heterogeneous ensemble; outputs must still agree
/// in shape, checked at each forward).
/// </para>
/// </summary>
public sealed class Ensemble : nn.Module<Tensor, Tensor>
{
    readonly TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>> members;
    readonly List<Dictionary<string, Tensor>>? _snapshots;

    /// <param name="members">Two or more models with the same output shape.</param>
    /// <param name="average">Probabilities (softmax mean, default) or Logits (raw mean).</param>
    /// <param name="classDim">The class dimension for the softmax (default −1, the last).</param>
    /// <param name="requireSameArchitecture">Check that every member has the first's parameter and buffer names and shapes.</param>
    public Ensemble(IReadOnlyList<nn.Module<Tensor, Tensor>> members, EnsembleAverage average = EnsembleAverage.Probabilities,
        long classDim = -1, bool requireSameArchitecture = true) : base(nameof(Ensemble))
    {
        ArgumentNullException.ThrowIfNull(members, nameof(members));
        CheckAverage(average);
        if (members.Count < 1) throw new ArgumentException("Ensemble: needs at least one member", nameof(members));
        for (int i = 0; i < members.Count; i++)
        {
            if (members[i] is null) throw new ArgumentNullException(nameof(members), $"Ensemble: member {i} is null");
            for (int j = 0; j < i; j++)
                if (ReferenceEquals(members[i], members[j]))
                    throw new ArgumentException($"Ensemble: members {j} and {i} are the same module instance; for snapshots of one model use Ensemble.FromSnapshots", nameof(members));
        }
        if (requireSameArchitecture)
        {
            var first = Signature(members[0]);
            for (int i = 1; i < members.Count; i++)
            {
                var other = Signature(members[i]);
                if (Differs(first, other) is { } why)
                    throw new ArgumentException($"Ensemble: member {i} ({members[i].GetType().Name}) differs in architecture from member 0 ({members[0].GetType().Name}): {why}; pass requireSameArchitecture: false for a heterogeneous ensemble", nameof(members));
            }
        }
        Average = average;
        ClassDim = classDim;
        this.members = new TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>>(members.ToArray());
        RegisterComponents();
    }

    Ensemble(nn.Module<Tensor, Tensor> model, List<Dictionary<string, Tensor>> snapshots, EnsembleAverage average, long classDim) : base(nameof(Ensemble))
    {
        Average = average;
        ClassDim = classDim;
        members = new TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>>(model);
        _snapshots = snapshots;
        RegisterComponents();
    }

    /// <summary>
    /// An ensemble of weight snapshots of one model (snapshot ensembles, Huang et al. 2017): each
    /// forward copies every snapshot into <paramref name="model"/> in turn and averages the outputs,
    /// then puts the model's own weights back. The snapshots are copied (the caller keeps its own);
    /// each must hold exactly the model's state_dict names and shapes.
    /// </summary>
    public static Ensemble FromSnapshots(nn.Module<Tensor, Tensor> model, IReadOnlyList<IReadOnlyDictionary<string, Tensor>> snapshots,
        EnsembleAverage average = EnsembleAverage.Probabilities, long classDim = -1)
    {
        ArgumentNullException.ThrowIfNull(model, nameof(model));
        ArgumentNullException.ThrowIfNull(snapshots, nameof(snapshots));
        CheckAverage(average);
        if (snapshots.Count < 1) throw new ArgumentException("Ensemble.FromSnapshots: needs at least one snapshot", nameof(snapshots));
        var state = model.state_dict();
        for (int i = 0; i < snapshots.Count; i++)
        {
            var s = snapshots[i] ?? throw new ArgumentNullException(nameof(snapshots), $"Ensemble.FromSnapshots: snapshot {i} is null");
            var missing = state.Keys.Where(k => !s.ContainsKey(k)).Take(5).ToArray();
            var extra = s.Keys.Where(k => !state.ContainsKey(k)).Take(5).ToArray();
            if (missing.Length > 0 || extra.Length > 0)
                throw new ArgumentException($"Ensemble.FromSnapshots: snapshot {i} is not a state of {model.GetType().Name}: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}]", nameof(snapshots));
            foreach (var (k, t) in state)
                if (!s[k].shape.SequenceEqual(t.shape) || s[k].dtype != t.dtype)
                    throw new ArgumentException($"Ensemble.FromSnapshots: snapshot {i}'s '{k}' is {s[k].dtype} [{string.Join(", ", s[k].shape)}], the model's {t.dtype} [{string.Join(", ", t.shape)}]", nameof(snapshots));
        }
        var copies = new List<Dictionary<string, Tensor>>();
        using (no_grad())
            foreach (var s in snapshots)
                copies.Add(s.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope()));
        return new Ensemble(model, copies, average, classDim);
    }

    public EnsembleAverage Average { get; }
    public long ClassDim { get; }

    /// <summary>The number of members (models or snapshots).</summary>
    public int Count => _snapshots?.Count ?? members.Count;

    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input, nameof(input));
        using var scope = NewDisposeScope();
        Tensor? sum = null;
        if (_snapshots is null)
        {
            for (int m = 0; m < members.Count; m++) sum = Accumulate(sum, members[m].forward(input), m);
        }
        else
        {
            using var _ = no_grad();
            var model = members[0];
            var state = model.state_dict();
            var own = state.ToDictionary(kv => kv.Key, kv => kv.Value.clone());
            try
            {
                for (int m = 0; m < _snapshots.Count; m++)
                {
                    foreach (var (k, t) in state) t.copy_(_snapshots[m][k]);
                    sum = Accumulate(sum, model.forward(input), m);
                }
            }
            finally
            {
                foreach (var (k, t) in state) t.copy_(own[k]);
            }
        }
        return sum!.div_(Count).MoveToOuterDisposeScope();
    }

    Tensor Accumulate(Tensor? sum, Tensor output, int m)
    {
        if (Average == EnsembleAverage.Probabilities)
        {
            if (output.dim() == 0) throw new ArgumentException($"Ensemble: member {m} returned a scalar; probabilities need a class dimension");
            var d = ClassDim < 0 ? ClassDim + output.dim() : ClassDim;
            if (d < 0 || d >= output.dim())
                throw new ArgumentException($"Ensemble: classDim {ClassDim} is out of range for member {m}'s output of shape [{string.Join(", ", output.shape)}]");
            if (!output.is_floating_point())
                throw new ArgumentException($"Ensemble: member {m} returned {output.dtype}; probabilities need floating-point logits");
            output = output.softmax(d);
        }
        if (sum is null) return output.clone();
        if (!output.shape.SequenceEqual(sum.shape))
            throw new ArgumentException($"Ensemble: member {m} returned shape [{string.Join(", ", output.shape)}], member 0 [{string.Join(", ", sum.shape)}]; members must agree");
        return sum.add_(output);
    }

    static void CheckAverage(EnsembleAverage average)
    {
        if (average is not (EnsembleAverage.Probabilities or EnsembleAverage.Logits))
            throw new ArgumentOutOfRangeException(nameof(average), average, $"Ensemble: unknown average {average}");
    }

    static List<(string, long[])> Signature(nn.Module m) =>
        m.named_parameters().Select(p => (p.name, p.parameter.shape))
         .Concat(m.named_buffers().Select(b => (b.name, b.buffer.shape))).ToList();

    static string? Differs(List<(string Name, long[] Shape)> a, List<(string Name, long[] Shape)> b)
    {
        for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            if (a[i].Name != b[i].Name) return $"tensor {i} is '{b[i].Name}', expected '{a[i].Name}'";
            if (!a[i].Shape.SequenceEqual(b[i].Shape)) return $"'{a[i].Name}' is [{string.Join(", ", b[i].Shape)}], expected [{string.Join(", ", a[i].Shape)}]";
        }
        return a.Count == b.Count ? null : $"{b.Count} parameters and buffers, expected {a.Count}";
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _snapshots is not null)
            foreach (var s in _snapshots) foreach (var t in s.Values) t.Dispose();
        base.Dispose(disposing);
    }
}
