using System.Globalization;
using System.Text;

namespace Engine;

/// <summary>
/// Prints tensors the way Python PyTorch does (torch/_tensor_str.py): 4 decimals, or scientific
/// notation when magnitudes span more than 1000x, or integer style ("1.") when every value is
/// whole; rows wrapped at 80 columns; tensors over 1000 elements summarized with "..." around 3
/// edge items; dtype, device and autograd suffixes.
/// </summary>
internal static class TensorFormatter
{
    const int Precision = 4, Threshold = 1000, EdgeItems = 3, LineWidth = 80;
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    internal static string Format(Tensor t)
    {
        using var scope = DisposeScope.Begin();
        var shape = t.Shape;
        var dtype = t.DType;
        bool summarize = t.NumEl > Threshold;
        var data = summarize ? Summarized(t.Detach(), shape) : t.Detach();
        var values = Values(data, dtype);
        var f = new Formatter(dtype, values);
        const string prefix = "tensor(";
        var sb = new StringBuilder(prefix);
        long numel = t.NumEl;
        if (numel == 0 && shape.Length == 1) sb.Append("[]");
        else if (numel == 0) sb.Append("[]");
        else
        {
            int pos = 0;
            var summarizedShape = data.Shape;
            AppendTensor(sb, f, values, ref pos, shape, summarizedShape, 0, prefix.Length, summarize);
        }

        // Suffixes in Python's order: device, then size and dtype, then autograd.
        var suffixes = new List<string>();
        var device = t.Device;
        if (device.Type != DeviceType.CPU) suffixes.Add($"device='{device}'");
        if (numel == 0 && shape.Length != 1) suffixes.Add("size=(" + string.Join(", ", shape) + (shape.Length == 1 ? ",)" : ")"));
        // An empty tensor has no values to show its kind, so only float32 goes unnamed there.
        bool defaultDType = numel == 0 ? dtype == Torch.DefaultDType
            : dtype == Torch.DefaultDType || dtype == ScalarType.Int64 || dtype == ScalarType.Bool;
        if (!defaultDType) suffixes.Add("dtype=torch." + dtype.TorchName());
        var gradFn = t.GradFn;
        if (gradFn is not null) suffixes.Add($"grad_fn=<{gradFn}>");
        else if (t.RequiresGrad) suffixes.Add("requires_grad=True");
        AppendSuffixes(sb, suffixes, prefix.Length);
        return sb.Append(')').ToString();
    }

    /// <summary>torch/_tensor_str.py's _add_suffixes: a suffix that would pass the line width
    /// goes on a new line, indented under the first bracket. (Python measures the last line as
    /// len - rfind('\n') + 1, which is two more than its length when there is no newline.)</summary>
    static void AppendSuffixes(StringBuilder sb, List<string> suffixes, int indent)
    {
        var text = sb.ToString();
        int lastLineLength = text.Length - text.LastIndexOf('\n') + 1;
        foreach (var suffix in suffixes)
        {
            if (lastLineLength + suffix.Length + 2 > LineWidth)
            {
                sb.Append(",\n").Append(' ', indent).Append(suffix);
                lastLineLength = indent + suffix.Length;
            }
            else
            {
                sb.Append(", ").Append(suffix);
                lastLineLength += suffix.Length + 2;
            }
        }
    }

    /// <summary>Keeps the first and last EdgeItems of every long dimension.</summary>
    static Tensor Summarized(Tensor t, long[] shape)
    {
        var r = t;
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] <= 2 * EdgeItems) continue;
            var head = r.Narrow(d, 0, EdgeItems);
            var tail = r.Narrow(d, shape[d] - EdgeItems, EdgeItems);
            r = Torch.Cat([head, tail], d);
        }
        return r;
    }

    static double[] Values(Tensor t, ScalarType dtype)
    {
        if (dtype == ScalarType.Bool || dtype.IsIntegral()) return Array.ConvertAll(t.To(ScalarType.Int64).ToArray<long>(), v => (double)v);
        return t.To(ScalarType.Float64).ToArray<double>();
    }

    static void AppendTensor(StringBuilder sb, Formatter f, double[] values, ref int pos, long[] shape, long[] sshape,
        int dim, int indent, bool summarize)
    {
        if (shape.Length == 0)
        {
            sb.Append(f.Format(values[pos++]));
            return;
        }
        long size = shape[dim], ssize = sshape[dim];
        bool cut = summarize && size > 2 * EdgeItems;
        if (dim == shape.Length - 1)
        {
            int elementLength = f.Width + 2;
            int perLine = Math.Max(1, (LineWidth - indent) / elementLength);
            var items = new List<string>();
            for (long i = 0; i < ssize; i++)
            {
                if (cut && i == EdgeItems) items.Add(" ...");
                items.Add(f.Format(values[pos++]));
            }
            sb.Append('[');
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0) sb.Append(i % perLine == 0 ? ",\n" + new string(' ', indent + 1) : ", ");
                sb.Append(items[i]);
            }
            sb.Append(']');
            return;
        }
        int rest = shape.Length - dim;
        string separator = "," + new string('\n', rest - 1) + new string(' ', indent + 1);
        sb.Append('[');
        for (long i = 0; i < ssize; i++)
        {
            if (i > 0) sb.Append(separator);
            if (cut && i == EdgeItems) sb.Append("...").Append(separator);
            AppendTensor(sb, f, values, ref pos, shape, sshape, dim + 1, indent + 1, summarize);
        }
        sb.Append(']');
    }

    sealed class Formatter
    {
        readonly bool _floating, _bool, _intMode = true, _sciMode;
        public int Width { get; } = 1;

        public Formatter(ScalarType dtype, double[] values)
        {
            _floating = dtype.IsFloatingPoint();
            _bool = dtype == ScalarType.Bool;
            if (!_floating)
            {
                foreach (var v in values) Width = Math.Max(Width, Plain(v).Length);
                return;
            }
            var finite = values.Where(v => double.IsFinite(v) && v != 0).ToArray();
            if (finite.Length == 0) return;
            double min = finite.Min(Math.Abs), max = finite.Max(Math.Abs);
            _intMode = finite.All(v => v == Math.Ceiling(v));
            _sciMode = _intMode ? max / min > 1000 || max > 1e8 : max / min > 1000 || max > 1e8 || min < 1e-4;
            foreach (var v in finite) Width = Math.Max(Width, Raw(v).Length);
        }

        string Plain(double v) => _bool ? (v != 0 ? "True" : "False") : ((long)v).ToString(Inv);

        string Raw(double v)
        {
            if (_sciMode) return Sci(v);
            if (_intMode) return Fixed(v, 0) + (double.IsFinite(v) ? "." : "");
            return Fixed(v, Precision);
        }

        public string Format(double v)
        {
            var s = _floating ? Raw(v) : Plain(v);
            return s.Length < Width ? new string(' ', Width - s.Length) + s : s;
        }

        static string Fixed(double v, int decimals)
        {
            if (double.IsNaN(v)) return "nan";
            if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
            var s = v.ToString("F" + decimals, Inv);
            // Python keeps the sign of negative zero results ("-0.0000").
            if ((v < 0 || double.IsNegative(v)) && !s.StartsWith('-')) s = "-" + s;
            return s;
        }

        static string Sci(double v)
        {
            if (double.IsNaN(v)) return "nan";
            if (double.IsInfinity(v)) return v > 0 ? "inf" : "-inf";
            // "E4" rounds ties to even on the exact value, as Python's '{:.4e}' does (a custom
            // "0.0000e+00" format rounds them away from zero); Python writes two exponent digits.
            var s = v.ToString("E" + Precision, Inv);
            int e = s.IndexOf('E');
            int exponent = int.Parse(s.AsSpan(e + 1), NumberStyles.AllowLeadingSign, Inv);
            return s[..e] + (exponent < 0 ? "e-" : "e+") + Math.Abs(exponent).ToString("00", Inv);
        }
    }
}

public partial class Tensor
{
    /// <summary>The values as Python PyTorch prints them, e.g. "tensor([0.3367, 0.1288])".</summary>
    public override string ToString() => IsDisposed ? "tensor(<disposed>)" : TensorFormatter.Format(this);
}
