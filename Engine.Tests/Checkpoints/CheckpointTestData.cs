using System.Text.Json;

namespace Engine.Tests.Checkpoints;

/// <summary>Helpers shared by the checkpoint tests: raw tensor bytes, random bit patterns, and the
/// Python fixtures' JSON records (bit patterns written by scripts/fixtures/make_safetensors_fixture.py).</summary>
internal static class CheckpointTestData
{
    public static readonly ScalarType[] AllDTypes =
    [
        ScalarType.Float64, ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    ];

    public static string SafeTensorsDType(ScalarType t) => t switch
    {
        ScalarType.Float64 => "F64", ScalarType.Float32 => "F32", ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16", ScalarType.Int64 => "I64", ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16", ScalarType.Int8 => "I8", ScalarType.Byte => "U8", ScalarType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    public static ScalarType ToScalarType(string dtype) => AllDTypes.Single(t => SafeTensorsDType(t) == dtype);

    /// <summary>The tensor's bytes in row-major order, read through a contiguous CPU copy.</summary>
    public static byte[] Bytes(Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return c.numel() == 0 ? [] : c.bytes.ToArray();
    }

    /// <summary>A CPU tensor holding exactly these bytes.</summary>
    public static Tensor FromBytes(ScalarType type, byte[] bytes, long[] shape)
    {
        var t = empty(shape, type, CPU);
        if (bytes.Length > 0) bytes.CopyTo(t.bytes);
        return t;
    }

    /// <summary>A tensor of random bit patterns (NaN payloads, subnormals, extremes included).</summary>
    public static Tensor RandomTensor(ScalarType type, long[] shape, Random rng)
    {
        long numel = shape.Aggregate(1L, (a, b) => a * b);
        using var probe = empty([0], type);
        var bytes = new byte[numel * probe.element_size()];
        rng.NextBytes(bytes);
        if (type == ScalarType.Bool)
            for (int i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        return FromBytes(type, bytes, shape);
    }

    /// <summary>The expected row-major bytes of a fixture tensor, from its JSON record: bit
    /// patterns for floating dtypes, values for the others.</summary>
    public static byte[] ExpectedBytes(JsonElement record)
    {
        var dtype = record.GetProperty("dtype").GetString()!;
        int size = dtype switch { "F64" or "I64" => 8, "F32" or "I32" => 4, "F16" or "BF16" or "I16" => 2, _ => 1 };
        bool floating = dtype.StartsWith('F') || dtype == "BF16";
        var items = record.GetProperty(floating ? "bits" : "values").EnumerateArray().ToList();
        var bytes = new byte[items.Count * size];
        for (int i = 0; i < items.Count; i++)
        {
            ulong v = items[i].ValueKind switch
            {
                JsonValueKind.True => 1,
                JsonValueKind.False => 0,
                _ when floating => items[i].GetUInt64(),
                _ => (ulong)items[i].GetInt64(),
            };
            for (int b = 0; b < size; b++) bytes[i * size + b] = (byte)(v >> (8 * b));
        }
        return bytes;
    }

    public static long[] ShapeOf(JsonElement record) =>
        record.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();

    public static JsonElement Fixture(string name) =>
        JsonDocument.Parse(File.ReadAllBytes(TestSetup.FixturePath(name))).RootElement;

    /// <summary>torch.nn.Sequential(Linear(4, 8), ReLU(), Linear(8, 2)) as TorchSharp builds it:
    /// the same state_dict names ("0.weight" ... "2.bias") as the PyTorch fixture.</summary>
    public static nn.Module<Tensor, Tensor> PythonSequential() =>
        nn.Sequential(("0", nn.Linear(4, 8)), ("1", nn.ReLU()), ("2", nn.Linear(8, 2)));
}
