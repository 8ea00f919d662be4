namespace Engine.Training.Metrics;

/// <summary>
/// Per-class precision, recall and F1 from the confusion matrix M (rows true, columns predicted),
/// and their unweighted (macro) means, as scikit-learn's precision_recall_fscore_support with
/// zero_division=0:
/// <code>
/// precision_c = M[c,c] / Σ_t M[t,c]     (0 when nothing was predicted as c)
/// recall_c    = M[c,c] / Σ_p M[c,p]     (0 when c never occurs)
/// f1_c        = 2·precision_c·recall_c / (precision_c + recall_c)   (0 when both are 0)
/// macro_x     = mean over classes of x_c
/// </code>
/// Names: precision_c, recall_c, f1_c for each class c, then macro_precision, macro_recall, macro_f1.
/// </summary>
public sealed class PrecisionRecall : Metric
{
    readonly ConfusionMatrix _matrix;
    readonly string[] _names;

    public PrecisionRecall(int classes)
    {
        _matrix = new ConfusionMatrix(classes);
        var names = new List<string>();
        for (int c = 0; c < classes; c++) names.AddRange([$"precision_{c}", $"recall_{c}", $"f1_{c}"]);
        names.AddRange(["macro_precision", "macro_recall", "macro_f1"]);
        _names = names.ToArray();
    }

    public int NumClasses => _matrix.NumClasses;
    public override IReadOnlyList<string> Names => _names;

    /// <summary>The confusion matrix the scores come from.</summary>
    public ConfusionMatrix Matrix => _matrix;

    public override void Update(Tensor prediction, Tensor target) => _matrix.Update(prediction, target);

    public override IReadOnlyDictionary<string, double> Compute()
    {
        var m = _matrix.Read();
        int n = NumClasses;
        var result = new Dictionary<string, double>();
        double sp = 0, sr = 0, sf = 0;
        for (int c = 0; c < n; c++)
        {
            long tp = m[c, c], predicted = 0, actual = 0;
            for (int k = 0; k < n; k++) { predicted += m[k, c]; actual += m[c, k]; }
            double p = predicted == 0 ? 0 : tp / (double)predicted;
            double r = actual == 0 ? 0 : tp / (double)actual;
            double f = p + r == 0 ? 0 : 2 * p * r / (p + r);
            result[$"precision_{c}"] = p;
            result[$"recall_{c}"] = r;
            result[$"f1_{c}"] = f;
            sp += p; sr += r; sf += f;
        }
        result["macro_precision"] = sp / n;
        result["macro_recall"] = sr / n;
        result["macro_f1"] = sf / n;
        return result;
    }

    public override void Synchronize(Distributed.ProcessGroup group) => _matrix.Synchronize(group);

    public override void Reset() => _matrix.Reset();
}
