using System.Text;
using System.Text.Json;

namespace Engine.Tests.Tensors;

/// <summary>
/// The golden values of Fixtures/tensor_ops.json, written by Python PyTorch 1.13
/// (scripts/fixtures/make_tensor_fixtures.py): sections ("shape", "math"...) of named cases.
/// </summary>
internal static class Fx
{
    static readonly Lazy<JsonElement> s_root = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestSetup.FixturePath("tensor_ops.json")));
        return doc.RootElement.Clone();
    });

    public static JsonElement Node(string section, string name)
    {
        if (!s_root.Value.TryGetProperty(section, out var s)) throw new KeyNotFoundException($"fixture section '{section}' is missing");
        if (!s.TryGetProperty(name, out var e)) throw new KeyNotFoundException($"fixture case '{section}.{name}' is missing: re-run scripts/fixtures/make_tensor_fixtures.py");
        return e;
    }

    public static Expected E(string section, string name) => Expected.From(Node(section, name), $"{section}.{name}");

    public static Expected[] List(string section, string name) =>
        Node(section, name).EnumerateArray().Select((e, i) => Expected.From(e, $"{section}.{name}[{i}]")).ToArray();

    /// <summary>The fixture tensor as an engine tensor on the CPU (its values, shape and dtype).</summary>
    public static Tensor Load(string section, string name) => E(section, name).ToTensor();

    public static long[] Longs(string section, string name) => Node(section, name).EnumerateArray().Select(e => e.GetInt64()).ToArray();
    public static string Str(string section, string name) => Node(section, name).GetString()!;
}

/// <summary>One expected tensor: shape, dtype and the values, widened to double.</summary>
internal sealed class Expected
{
    public required string Name { get; init; }
    public required long[] Shape { get; init; }
    public required ScalarType DType { get; init; }
    public required double[] Data { get; init; }

    public static Expected From(JsonElement e, string name) => new()
    {
        Name = name,
        Shape = e.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray(),
        DType = ParseDType(e.GetProperty("dtype").GetString()!),
        Data = e.GetProperty("data").EnumerateArray().Select(Number).ToArray(),
    };

    static double Number(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.True => 1,
        JsonValueKind.False => 0,
        JsonValueKind.Number => v.GetDouble(),
        JsonValueKind.String => v.GetString() switch
        {
            "nan" => double.NaN,
            "inf" => double.PositiveInfinity,
            "-inf" => double.NegativeInfinity,
            var s => throw new FormatException($"unexpected fixture value '{s}'"),
        },
        _ => throw new FormatException($"unexpected fixture value {v}"),
    };

    public static ScalarType ParseDType(string name) => name switch
    {
        "float32" => ScalarType.Float32,
        "float64" => ScalarType.Float64,
        "float16" => ScalarType.Float16,
        "bfloat16" => ScalarType.BFloat16,
        "int64" => ScalarType.Int64,
        "int32" => ScalarType.Int32,
        "int16" => ScalarType.Int16,
        "int8" => ScalarType.Int8,
        "uint8" => ScalarType.UInt8,
        "bool" => ScalarType.Bool,
        _ => throw new FormatException($"unknown dtype '{name}'"),
    };

    /// <summary>The value of a 0-d or one-element case.</summary>
    public double Scalar => Data.Length == 1 ? Data[0] : throw new InvalidOperationException($"{Name} has {Data.Length} values");

    public Tensor ToTensor(Device? device = null)
    {
        var dev = device ?? Device.CPU;
        return DType switch
        {
            ScalarType.Float32 => Torch.FromSpan<float>(Data.Select(v => (float)v).ToArray(), Shape, dev),
            ScalarType.Float64 => Torch.FromSpan<double>(Data, Shape, dev),
            ScalarType.Float16 => Torch.FromSpan<Half>(Data.Select(v => (Half)v).ToArray(), Shape, dev),
            ScalarType.BFloat16 => Torch.FromSpan<BFloat16>(Data.Select(v => (BFloat16)(float)v).ToArray(), Shape, dev),
            ScalarType.Int64 => Torch.FromSpan<long>(Data.Select(v => (long)v).ToArray(), Shape, dev),
            ScalarType.Int32 => Torch.FromSpan<int>(Data.Select(v => (int)v).ToArray(), Shape, dev),
            ScalarType.Int16 => Torch.FromSpan<short>(Data.Select(v => (short)v).ToArray(), Shape, dev),
            ScalarType.Int8 => Torch.FromSpan<sbyte>(Data.Select(v => (sbyte)v).ToArray(), Shape, dev),
            ScalarType.UInt8 => Torch.FromSpan<byte>(Data.Select(v => (byte)v).ToArray(), Shape, dev),
            ScalarType.Bool => Torch.FromSpan<bool>(Data.Select(v => v != 0).ToArray(), Shape, dev),
            _ => throw new NotSupportedException(DType.ToString()),
        };
    }

    public override string ToString() => $"{Name}: [{string.Join(", ", Shape)}] {DType.TorchName()}";
}

/// <summary>Assertions against fixtures: dtype and shape exactly, values to a stated tolerance.</summary>
internal static class Check
{
    /// <summary>Exact equality of dtype, shape and every value (NaN equals NaN).</summary>
    public static void Exact(Tensor actual, Expected expected) => Close(actual, expected, 0, 0);

    /// <summary>dtype and shape exact; each value within atol + rtol * |expected|; NaN and
    /// infinities must match exactly.</summary>
    public static void Close(Tensor actual, Expected expected, double rtol, double atol)
    {
        Assert.That(actual.DType, Is.EqualTo(expected.DType), $"{expected.Name}: dtype");
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), $"{expected.Name}: shape");
        Values(Read(actual), expected.Data, rtol, atol, expected.Name);
    }

    public static void Values(double[] actual, double[] expected, double rtol, double atol, string name)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{name}: element count");
        int bad = 0, first = -1;
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], e = expected[i];
            bool ok = double.IsNaN(e) ? double.IsNaN(a)
                : double.IsInfinity(e) ? a == e
                : Math.Abs(a - e) <= atol + rtol * Math.Abs(e);
            if (ok) continue;
            bad++;
            if (first < 0) first = i;
            worst = Math.Max(worst, Math.Abs(a - e));
        }
        if (bad > 0)
            Assert.Fail($"{name}: {bad} of {actual.Length} values differ (rtol {rtol:G3}, atol {atol:G3}); " +
                        $"first at {first}: engine {actual[first]:R}, python {expected[first]:R}; largest difference {worst:G4}");
    }

    /// <summary>The tensor's values, read with the element type of its dtype (no conversion op).</summary>
    public static double[] Read(Tensor t) => t.DType switch
    {
        ScalarType.Float32 => Array.ConvertAll(t.ToArray<float>(), v => (double)v),
        ScalarType.Float64 => t.ToArray<double>(),
        ScalarType.Float16 => Array.ConvertAll(t.ToArray<Half>(), v => (double)v),
        ScalarType.BFloat16 => Array.ConvertAll(t.ToArray<BFloat16>(), v => (double)(float)v),
        ScalarType.Int64 => Array.ConvertAll(t.ToArray<long>(), v => (double)v),
        ScalarType.Int32 => Array.ConvertAll(t.ToArray<int>(), v => (double)v),
        ScalarType.Int16 => Array.ConvertAll(t.ToArray<short>(), v => (double)v),
        ScalarType.Int8 => Array.ConvertAll(t.ToArray<sbyte>(), v => (double)v),
        ScalarType.UInt8 => Array.ConvertAll(t.ToArray<byte>(), v => (double)v),
        ScalarType.Bool => Array.ConvertAll(t.ToArray<bool>(), v => v ? 1.0 : 0.0),
        _ => throw new NotSupportedException(t.DType.ToString()),
    };

    public static void List(Tensor[] actual, Expected[] expected)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), "number of pieces");
        for (int i = 0; i < actual.Length; i++) Exact(actual[i], expected[i]);
    }
}
