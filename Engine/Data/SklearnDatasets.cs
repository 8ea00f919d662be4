using System.Globalization;

namespace Engine.Data;

/// <summary>
/// scikit-learn's bundled toy data sets (<c>sklearn.datasets.load_iris</c>, <c>load_wine</c>,
/// <c>load_breast_cancer</c>, <c>load_digits</c>, <c>load_diabetes</c>), read from the CSV files
/// that ship inside scikit-learn (1.2.1, Debian's python3-sklearn), which
/// <c>scripts/get-sklearn-data.sh</c> fetches into <see cref="DataCache"/>'s sklearn folder.
/// Features are float32 [N, F] (scikit-learn gives float64), class targets int64 [N], diabetes'
/// target float32 [N]. The files hold the same numbers scikit-learn's loaders return.
/// </summary>
public static class SklearnDatasets
{
    /// <summary>The command that fetches the files.</summary>
    public const string Fetch = "scripts/get-sklearn-data.sh";

    /// <summary>Iris: 150 × 4 measurements (cm), classes setosa, versicolor, virginica.</summary>
    public static TabularData LoadIris(string? folder = null) => LoadCounted(folder, "iris.csv", 150, 4);

    /// <summary>Wine: 178 × 13 chemical measurements, classes class_0, class_1, class_2.</summary>
    public static TabularData LoadWine(string? folder = null) => LoadCounted(folder, "wine_data.csv", 178, 13);

    /// <summary>Breast cancer (Wisconsin diagnostic): 569 × 30 features, classes malignant (0), benign (1).</summary>
    public static TabularData LoadBreastCancer(string? folder = null) => LoadCounted(folder, "breast_cancer.csv", 569, 30);

    /// <summary>Digits: 1,797 8×8 images flattened to 64 features with values 0-16 (not scaled), classes 0-9.</summary>
    public static TabularData LoadDigits(string? folder = null)
    {
        folder ??= DataCache.Folder("sklearn");
        var path = DataCache.Find(folder, "digits.csv", "scikit-learn", Fetch);
        var (x, y) = Load(path, new CsvOptions(), 1797, 64);
        return new TabularData(x, y, Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray());
    }

    /// <summary>
    /// Diabetes: 442 × 10 baseline variables (age, sex, bmi, bp, s1-s6) and a float32 measure of
    /// disease progression one year later. With <paramref name="scaled"/> (scikit-learn's default)
    /// each feature is centred and divided by its population standard deviation times sqrt(N),
    /// so every column has mean 0 and sum of squares 1, computed in float64 as scikit-learn does;
    /// otherwise the raw values (<c>load_diabetes(scaled=False)</c>).
    /// </summary>
    public static TabularData LoadDiabetes(string? folder = null, bool scaled = true)
    {
        folder ??= DataCache.Folder("sklearn");
        var dataPath = DataCache.Find(folder, "diabetes_data_raw.csv", "scikit-learn", Fetch);
        var targetPath = DataCache.Find(folder, "diabetes_target.csv", "scikit-learn", Fetch);
        var data = Read(dataPath, new CsvOptions { Separator = null }, 442, 10);
        var target = Read(targetPath, new CsvOptions { Separator = null }, 442, 1);
        using var scope = NewDisposeScope();
        var x = tensor(data.Rows.SelectMany(r => r).ToArray(), [442, 10], ScalarType.Float64);
        if (scaled)
        {
            var mean = x.mean([0]);
            var centered = x.sub(mean);
            var std = centered.mul(centered).mean([0]).sqrt_();
            x = centered.div(std).div_(Math.Sqrt(442));
        }
        var features = x.to(ScalarType.Float32);
        var targets = tensor(target.Rows.Select(r => (float)r[0]).ToArray(), ScalarType.Float32);
        return new TabularData(features.MoveToOuterDisposeScope(), targets.MoveToOuterDisposeScope(), []);
    }

    /// <summary>scikit-learn's layout for iris, wine and breast cancer: a first line
    /// "n_samples,n_features,class names...", then rows of features and an integer class.</summary>
    static TabularData LoadCounted(string? folder, string name, int samples, int features)
    {
        folder ??= DataCache.Folder("sklearn");
        var path = DataCache.Find(folder, name, "scikit-learn", Fetch);
        string first = File.ReadLines(path).FirstOrDefault() ?? "";
        var head = first.Split(',');
        if (head.Length < 3 || head[0].Trim() != samples.ToString(CultureInfo.InvariantCulture) || head[1].Trim() != features.ToString(CultureInfo.InvariantCulture))
            throw new InvalidDataException($"{path}: first line '{first}' should start \"{samples},{features},\" followed by the class names; fetch the file again with {Fetch}");
        var (x, y) = Load(path, new CsvOptions { SkipLines = 1 }, samples, features);
        return new TabularData(x, y, head[2..].Select(s => s.Trim()).ToArray());
    }

    static (Tensor, Tensor) Load(string path, CsvOptions options, int samples, int features)
    {
        var table = Read(path, options, samples, features + 1);
        return Csv.ToTensors(table, path, options);
    }

    static CsvTable Read(string path, CsvOptions options, int samples, int columns)
    {
        CsvTable table;
        try
        {
            table = Csv.Read(path, options);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{e.Message}; fetch the file again with {Fetch}", e);
        }
        if (table.Rows.Length != samples || table.Columns.Count != columns)
            throw new InvalidDataException($"{path}: {table.Rows.Length} rows of {table.Columns.Count} columns, expected {samples} of {columns}; fetch the file again with {Fetch}");
        return table;
    }
}
