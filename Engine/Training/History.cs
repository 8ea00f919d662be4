namespace Engine.Training;

/// <summary>
/// What <see cref="Trainer.Fit"/> returns (Keras' History): one row of logs per epoch ("loss",
/// the metrics, "val_…" for validation, "lr"), and each name's values over the epochs.
/// </summary>
public sealed class History
{
    readonly List<int> _epochs = [];
    readonly List<IReadOnlyDictionary<string, double>> _rows = [];

    /// <summary>The epoch index (0-based, as Keras' callbacks count) of each row.</summary>
    public IReadOnlyList<int> Epochs => _epochs;

    /// <summary>Each epoch's logs.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, double>> Rows => _rows;

    /// <summary>The values of <paramref name="name"/> over the epochs (Keras' history.history[name]).</summary>
    public IReadOnlyList<double> this[string name]
    {
        get
        {
            if (_rows.Count > 0 && !_rows.Any(r => r.ContainsKey(name)))
                throw new KeyNotFoundException($"History: no '{name}'; the logs have {string.Join(", ", Names)}");
            return _rows.Select(r => r.TryGetValue(name, out var v) ? v : double.NaN).ToArray();
        }
    }

    /// <summary>Every name logged, in first-seen order.</summary>
    public IReadOnlyList<string> Names => _rows.SelectMany(r => r.Keys).Distinct().ToArray();

    internal void Add(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        _epochs.Add(epoch);
        _rows.Add(logs);
    }
}
