using System.Globalization;
using System.IO.Compression;

namespace Engine.Data;

/// <summary>How <see cref="Csv"/> reads a file.</summary>
public sealed record CsvOptions
{
    /// <summary>The cell separator; null: runs of spaces or tabs (numpy's <c>loadtxt</c> default).</summary>
    public char? Separator { get; init; } = ',';
    /// <summary>Lines skipped at the top, before the header or the data (e.g. scikit-learn's count line).</summary>
    public int SkipLines { get; init; }
    /// <summary>The first line after the skipped ones names the columns (pandas' <c>header=0</c>).</summary>
    public bool Header { get; init; }
    /// <summary>The target column by index, negative counting from the end (-1: the last); ignored when <see cref="TargetName"/> is set.</summary>
    public int TargetColumn { get; init; } = -1;
    /// <summary>The target column by its header name (needs <see cref="Header"/>).</summary>
    public string? TargetName { get; init; }
    /// <summary>Int64 (class indices: every target must be a whole number) or Float32 (regression).</summary>
    public ScalarType TargetType { get; init; } = ScalarType.Int64;
}

/// <summary>A numeric table read by <see cref="Csv.Read"/>: column names (from the header, else
/// "0", "1", ...) and the rows' values.</summary>
public sealed record CsvTable(IReadOnlyList<string> Columns, double[][] Rows);

/// <summary>
/// Numeric CSV files (plain, or gzipped by the ".gz" suffix) as tensors: every cell a number in
/// the invariant culture (surrounding double quotes allowed), empty lines skipped. Checked
/// before any tensor is made: a ragged row, a non-numeric cell or a fractional class target is an
/// <see cref="InvalidDataException"/> naming the file, line and column. Like pandas'
/// <c>read_csv</c> + <c>df.drop(columns=target)</c> for the numeric case only: no quoting of
/// separators, no missing values, no categorical columns.
/// </summary>
public static class Csv
{
    /// <summary>Reads every row of the file.</summary>
    /// <exception cref="FileNotFoundException">The file is missing.</exception>
    /// <exception cref="InvalidDataException">A damaged gzip stream, ragged rows, a non-numeric cell, or no rows.</exception>
    public static CsvTable Read(string path, CsvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new CsvOptions();
        if (options.SkipLines < 0)
            throw new ArgumentOutOfRangeException(nameof(options), options.SkipLines, "Csv.Read: SkipLines must be non-negative");
        if (!File.Exists(path))
            throw new FileNotFoundException($"Csv.Read: {path} not found", path);
        var lines = ReadLines(path);
        string[]? names = null;
        var rows = new List<double[]>();
        int skipped = 0;
        for (int l = 0; l < lines.Length; l++)
        {
            if (skipped < options.SkipLines) { skipped++; continue; }
            var line = lines[l].TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            var cells = Split(line, options.Separator);
            if (options.Header && names is null)
            {
                names = cells.Select(Unquote).ToArray();
                continue;
            }
            int width = names?.Length ?? (rows.Count > 0 ? rows[0].Length : cells.Length);
            if (cells.Length != width)
                throw new InvalidDataException($"{path}: line {l + 1} has {cells.Length} cells, expected {width}{(names is null ? " (as the first data line)" : " (as the header)")}");
            var row = new double[cells.Length];
            for (int c = 0; c < cells.Length; c++)
            {
                var cell = Unquote(cells[c]);
                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out row[c]))
                    throw new InvalidDataException($"{path}: line {l + 1}, column {c + 1}{(names is null ? "" : $" ({names[c]})")}: '{cell}' is not a number");
            }
            rows.Add(row);
        }
        if (rows.Count == 0)
            throw new InvalidDataException($"{path}: no data rows (after {options.SkipLines} skipped lines{(options.Header ? " and the header" : "")})");
        var columns = names ?? Enumerable.Range(0, rows[0].Length).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        return new CsvTable(columns, [.. rows]);
    }

    /// <summary>Features float32 [N, F] (every column but the target) and targets [N] (int64 or
    /// float32, <see cref="CsvOptions.TargetType"/>) from a file; the caller owns both tensors.</summary>
    /// <exception cref="ArgumentException">No such target column, or an unsupported target type.</exception>
    public static (Tensor Features, Tensor Targets) Load(string path, CsvOptions? options = null)
    {
        options ??= new CsvOptions();
        return ToTensors(Read(path, options), path, options);
    }

    /// <summary>Splits a table into features float32 [N, F] and targets [N].</summary>
    public static (Tensor Features, Tensor Targets) ToTensors(CsvTable table, string source, CsvOptions options)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(options);
        int width = table.Columns.Count, target;
        if (options.TargetName is { } name)
        {
            target = table.Columns.ToList().IndexOf(name);
            if (target < 0)
                throw new ArgumentException($"Csv: {source} has no column '{name}' (columns: {string.Join(", ", table.Columns)})", nameof(options));
        }
        else
        {
            target = options.TargetColumn < 0 ? width + options.TargetColumn : options.TargetColumn;
            if (target < 0 || target >= width)
                throw new ArgumentException($"Csv: target column {options.TargetColumn} is outside the {width} columns of {source}", nameof(options));
        }
        if (options.TargetType != ScalarType.Int64 && options.TargetType != ScalarType.Float32)
            throw new ArgumentException($"Csv: TargetType {options.TargetType}; use Int64 (classes) or Float32 (regression)", nameof(options));
        int n = table.Rows.Length, f = width - 1;
        var features = new float[(long)n * f];
        var targets = new double[n];
        for (int r = 0; r < n; r++)
        {
            var row = table.Rows[r];
            for (int c = 0, k = 0; c < width; c++)
                if (c == target) targets[r] = row[c];
                else features[(long)r * f + k++] = (float)row[c];
        }
        if (options.TargetType == ScalarType.Int64)
            for (int r = 0; r < n; r++)
                if (targets[r] != Math.Floor(targets[r]) || Math.Abs(targets[r]) > 1e15)
                    throw new InvalidDataException($"{source}: row {r + 1}: target {targets[r]} (column {target + 1}) is not a whole number; read it as Float32 for regression");
        var x = tensor(features, [n, f], ScalarType.Float32);
        var y = options.TargetType == ScalarType.Int64
            ? tensor(targets.Select(t => (long)t).ToArray(), ScalarType.Int64)
            : tensor(targets.Select(t => (float)t).ToArray(), ScalarType.Float32);
        return (x, y);
    }

    static string[] ReadLines(string path)
    {
        using var file = File.OpenRead(path);
        using var stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
        using var reader = new StreamReader(stream);
        try
        {
            return reader.ReadToEnd().Split('\n');
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{path}: not a valid gzip file ({e.Message})", e);
        }
    }

    static string[] Split(string line, char? separator) => separator is { } s
        ? line.Split(s)
        : line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);

    static string Unquote(string cell)
    {
        cell = cell.Trim();
        return cell.Length >= 2 && cell[0] == '"' && cell[^1] == '"' ? cell[1..^1] : cell;
    }
}
