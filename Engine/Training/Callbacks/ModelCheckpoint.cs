using System.Globalization;
using System.Text.RegularExpressions;
using Engine.Checkpoints;

namespace Engine.Training.Callbacks;

/// <summary>
/// Saves the model's state dict as safetensors at epoch ends (Keras' ModelCheckpoint with
/// save_weights_only). The path is a pattern: <c>{epoch}</c> is the 1-based epoch number and
/// <c>{name}</c> any log value, each with an optional .NET format after a colon, e.g.
/// <c>"ckpt/model-{epoch:000}-{val_loss:0.0000}.safetensors"</c>. With <c>saveBestOnly</c> a file is
/// written only when the monitored value beats the best so far (strictly, as Keras). Writes are
/// atomic (<see cref="ModuleSafeTensors.SaveSafeTensors"/> over AtomicFile): a crash leaves the
/// previous file whole. The metadata records the epoch, the global step and the monitored value.
/// Nothing is written before the dry run passed (files are only written at epoch ends).
/// </summary>
public sealed class ModelCheckpoint : Callback
{
    /// <summary>Writes: rank 0 only in data-parallel training.</summary>
    public override bool MainRankOnly => true;

    static readonly Regex Field = new(@"\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::(?<format>[^}]*))?\}", RegexOptions.Compiled);

    public ModelCheckpoint(string path, string monitor = "val_loss", bool saveBestOnly = false, MonitorMode mode = MonitorMode.Auto)
    {
        Path = path ?? throw new ArgumentNullException(nameof(path));
        Monitor = monitor ?? throw new ArgumentNullException(nameof(monitor));
        SaveBestOnly = saveBestOnly;
        Maximize = Callbacks.Monitor.Maximizes(monitor, mode);
    }

    public string Path { get; }
    public string Monitor { get; }
    public bool SaveBestOnly { get; }
    public bool Maximize { get; }

    /// <summary>The best monitored value so far (null before the first save).</summary>
    public double? Best { get; private set; }

    /// <summary>The last file written (null before the first).</summary>
    public string? LastSaved { get; private set; }

    public override IEnumerable<string> Monitors
    {
        get
        {
            var names = Field.Matches(Path).Select(m => m.Groups["name"].Value).Where(n => n != "epoch").ToList();
            if (SaveBestOnly) names.Add(Monitor);
            return names.Distinct();
        }
    }

    public override void OnTrainBegin() => Best = null;

    /// <summary>The file name for an epoch (0-based <paramref name="epoch"/>, written 1-based) and its logs.</summary>
    public string FormatPath(int epoch, IReadOnlyDictionary<string, double> logs) =>
        Field.Replace(Path, m =>
        {
            var name = m.Groups["name"].Value;
            var format = m.Groups["format"].Success ? m.Groups["format"].Value : null;
            if (name == "epoch") return (epoch + 1).ToString(format, CultureInfo.InvariantCulture);
            return Callbacks.Monitor.Read(logs, name, nameof(ModelCheckpoint)).ToString(format, CultureInfo.InvariantCulture);
        });

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        double? current = logs.TryGetValue(Monitor, out var v) ? v : null;
        if (SaveBestOnly)
        {
            double value = Callbacks.Monitor.Read(logs, Monitor, nameof(ModelCheckpoint));
            if (double.IsNaN(value)) return;
            if (Best is { } best && !(Maximize ? value > best : value < best)) return;
            Best = value;
        }
        var file = FormatPath(epoch, logs);
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(file));
        if (dir is not null) Directory.CreateDirectory(dir);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["epoch"] = (epoch + 1).ToString(CultureInfo.InvariantCulture),
            ["global_step"] = Trainer.GlobalStep.ToString(CultureInfo.InvariantCulture),
        };
        if (current is { } c) metadata[Monitor] = c.ToString("R", CultureInfo.InvariantCulture);
        Trainer.Model.SaveSafeTensors(file, metadata);
        LastSaved = file;
    }
}
