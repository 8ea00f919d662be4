using Engine.Schedules;

namespace Engine.Averaging;

/// <summary>
/// Snapshot ensembles (Huang, Li, Pleiss, Liu, Hopcroft and Weinberger, 2017, "Train 1, get M for
/// free"; the seed: "dùng nhiều snapshot của cùng một mô hình"): train one model with a cyclic
/// cosine schedule with warm restarts (<see cref="CosineAnnealingWarmRestarts"/>), save the weights at
/// the end of each cycle, where the lr is at its minimum and the model sits in a local minimum, and
/// ensemble the last M snapshots at test time (<see cref="ToEnsemble"/>, averaging probabilities).
/// <para>
/// A loop (or a Trainer callback at each scheduler step) calls <see cref="OnStep"/>(model, schedule,
/// step) after training step <c>step</c> and before <c>scheduler.Step()</c>: it takes a snapshot when
/// <see cref="IsCycleEnd"/> says the next step restarts. <see cref="TakeSnapshot"/> takes one any time.
/// A snapshot is a copy of the model's state_dict (parameters and buffers, so BatchNorm statistics
/// belong to their weights).
/// </para>
/// </summary>
public sealed class SnapshotEnsemble : IDisposable
{
    readonly List<Dictionary<string, Tensor>> _snapshots = new();

    /// <param name="maxSnapshots">Keep only the last M snapshots (Huang et al. ensemble the last M); null: all.</param>
    public SnapshotEnsemble(int? maxSnapshots = null)
    {
        if (maxSnapshots is <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxSnapshots), maxSnapshots, $"SnapshotEnsemble: maxSnapshots must be >= 1 (or null for all), got {maxSnapshots}");
        MaxSnapshots = maxSnapshots;
    }

    public int? MaxSnapshots { get; }

    /// <summary>The snapshots kept, oldest first (owned by this object).</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, Tensor>> Snapshots => _snapshots;

    /// <summary>Copies <paramref name="model"/>'s state_dict as a new snapshot (dropping the oldest beyond <see cref="MaxSnapshots"/>).</summary>
    public void TakeSnapshot(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model, nameof(model));
        var state = model.state_dict();
        if (_snapshots.Count > 0)
        {
            var first = _snapshots[0];
            if (first.Count != state.Count || state.Any(kv => !first.TryGetValue(kv.Key, out var t) || !t.shape.SequenceEqual(kv.Value.shape)))
                throw new ArgumentException($"SnapshotEnsemble.TakeSnapshot: {model.GetType().Name} does not have the state names and shapes of the earlier snapshots (another architecture)", nameof(model));
        }
        Dictionary<string, Tensor> copy;
        using (no_grad())
            copy = state.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
        _snapshots.Add(copy);
        if (MaxSnapshots is { } max && _snapshots.Count > max)
        {
            foreach (var t in _snapshots[0].Values) t.Dispose();
            _snapshots.RemoveAt(0);
        }
    }

    /// <summary>
    /// True when <paramref name="step"/> is the last step of a cycle of <paramref name="schedule"/>:
    /// the next step restarts (T_cur of step + 1 is 0), so the weights trained at this step's lr, the
    /// cycle's smallest, are the snapshot.
    /// </summary>
    public static bool IsCycleEnd(CosineAnnealingWarmRestarts schedule, long step)
    {
        ArgumentNullException.ThrowIfNull(schedule, nameof(schedule));
        if (step < 0) throw new ArgumentOutOfRangeException(nameof(step), step, $"SnapshotEnsemble.IsCycleEnd: step must be >= 0, got {step}");
        return schedule.Position(step + 1).TCur == 0;
    }

    /// <summary>Takes a snapshot if <paramref name="step"/> ends a cycle (<see cref="IsCycleEnd"/>); returns whether it did.</summary>
    public bool OnStep(nn.Module model, CosineAnnealingWarmRestarts schedule, long step)
    {
        if (!IsCycleEnd(schedule, step)) return false;
        TakeSnapshot(model);
        return true;
    }

    /// <summary>An <see cref="Ensemble"/> of the snapshots kept, evaluated with <paramref name="model"/> (which
    /// the ensemble owns as its one submodule; the snapshots are copied).</summary>
    public Ensemble ToEnsemble(nn.Module<Tensor, Tensor> model, EnsembleAverage average = EnsembleAverage.Probabilities, long classDim = -1)
    {
        if (_snapshots.Count == 0) throw new InvalidOperationException("SnapshotEnsemble.ToEnsemble: no snapshot taken yet");
        return Ensemble.FromSnapshots(model, _snapshots, average, classDim);
    }

    public void Dispose()
    {
        foreach (var s in _snapshots) foreach (var t in s.Values) t.Dispose();
        _snapshots.Clear();
    }
}
