using System.Globalization;

namespace Engine.Training.Callbacks;

/// <summary>
/// Writes each epoch's logs to a CSV file as Keras' CSVLogger does: a header "epoch" followed by the
/// log names sorted (ordinal), one row per epoch with the 0-based epoch and the values
/// (round-trip format, "nan"/"inf" as Python writes them), rows ended by "\r\n" (the csv module's
/// excel dialect), flushed after every row. <c>append</c> continues an existing file without a
/// second header. The file is opened at train begin, after the dry run passed.
/// </summary>
public sealed class CsvLogger(string path, char separator = ',', bool append = false) : Callback
{
    /// <summary>Writes: rank 0 only in data-parallel training.</summary>
    public override bool MainRankOnly => true;

    StreamWriter? _writer;
    string[]? _keys;

    public string Path { get; } = path ?? throw new ArgumentNullException(nameof(path));

    public override void OnTrainBegin()
    {
        bool continuing = append && File.Exists(Path) && new FileInfo(Path).Length > 0;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path));
        if (dir is not null) Directory.CreateDirectory(dir);
        _writer = new StreamWriter(Path, append, new System.Text.UTF8Encoding(false));
        _keys = null;
        if (continuing)
        {
            // Keep the existing header's columns.
            var header = File.ReadLines(Path).FirstOrDefault();
            if (header is not null) _keys = header.Split(separator).Skip(1).ToArray();
        }
        _headerWritten = continuing;
    }

    bool _headerWritten;

    static string Format(double v) => double.IsNaN(v) ? "nan" : double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf"
        : v.ToString("R", CultureInfo.InvariantCulture);

    public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs)
    {
        if (_writer is null) throw new InvalidOperationException("CsvLogger: OnEpochEnd before OnTrainBegin");
        _keys ??= logs.Keys.OrderBy(k => k, StringComparer.Ordinal).ToArray();
        if (!_headerWritten)
        {
            _writer.Write(string.Join(separator, new[] { "epoch" }.Concat(_keys)) + "\r\n");
            _headerWritten = true;
        }
        var row = new[] { epoch.ToString(CultureInfo.InvariantCulture) }
            .Concat(_keys.Select(k => logs.TryGetValue(k, out var v) ? Format(v) : "NA"));
        _writer.Write(string.Join(separator, row) + "\r\n");
        _writer.Flush();
    }

    public override void OnTrainEnd(History history)
    {
        _writer?.Dispose();
        _writer = null;
    }
}
