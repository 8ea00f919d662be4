using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Engine.Checkpoints;
using Engine.Nn;

namespace Engine.Tests.Checkpoints;

/// <summary>safetensors: bit-exact round trips, files written to the reference layout by Python
/// PyTorch (scripts/fixtures/make_safetensors_fixture.py), the reference writer's byte-exact test
/// vectors, header validation and atomic writes.</summary>
public class SafeTensorsTests
{
    string _dir = "";

    [SetUp]
    public void CreateFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "engine-safetensors-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteFolder()
    {
        SafeTensors.AfterTensorWritten = null;
        Directory.Delete(_dir, recursive: true);
    }

    string PathOf(string name) => Path.Combine(_dir, name);

    static readonly ScalarType[] AllDTypes =
    [
        ScalarType.Float64, ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.UInt8, ScalarType.Bool,
    ];

    static readonly long[][] AllShapes = [[], [1], [7], [2, 3, 4], [0, 3]];

    // ---- helpers ----

    /// <summary>The tensor's bytes in row-major order (reference for bit-exact checks).</summary>
    static unsafe byte[] Bytes(Tensor t)
    {
        using var c = t.Contiguous();
        long n = c.NumEl * c.ElementSize;
        return n == 0 ? [] : new ReadOnlySpan<byte>((void*)c.DataPointer, (int)n).ToArray();
    }

    /// <summary>A tensor of random bit patterns (NaN payloads, subnormals, extremes included).</summary>
    static Tensor RandomTensor(ScalarType type, long[] shape, Random rng)
    {
        long numel = shape.Aggregate(1L, (a, b) => a * b);
        var bytes = new byte[numel * type.ElementSize()];
        rng.NextBytes(bytes);
        if (type == ScalarType.Bool)
            for (int i = 0; i < bytes.Length; i++) bytes[i] &= 1;
        return FromBytes(type, bytes, shape);
    }

    static Tensor FromBytes(ScalarType type, byte[] bytes, long[] shape) => type switch
    {
        ScalarType.Float64 => Torch.FromSpan(MemoryMarshal.Cast<byte, double>(bytes), shape, Device.CPU),
        ScalarType.Float32 => Torch.FromSpan(MemoryMarshal.Cast<byte, float>(bytes), shape, Device.CPU),
        ScalarType.Float16 => Torch.FromSpan(MemoryMarshal.Cast<byte, Half>(bytes), shape, Device.CPU),
        ScalarType.BFloat16 => Torch.FromSpan(MemoryMarshal.Cast<byte, BFloat16>(bytes), shape, Device.CPU),
        ScalarType.Int64 => Torch.FromSpan(MemoryMarshal.Cast<byte, long>(bytes), shape, Device.CPU),
        ScalarType.Int32 => Torch.FromSpan(MemoryMarshal.Cast<byte, int>(bytes), shape, Device.CPU),
        ScalarType.Int16 => Torch.FromSpan(MemoryMarshal.Cast<byte, short>(bytes), shape, Device.CPU),
        ScalarType.Int8 => Torch.FromSpan(MemoryMarshal.Cast<byte, sbyte>(bytes), shape, Device.CPU),
        ScalarType.UInt8 => Torch.FromSpan<byte>(bytes, shape, Device.CPU),
        ScalarType.Bool => Torch.FromSpan(MemoryMarshal.Cast<byte, bool>(bytes), shape, Device.CPU),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    static string SafeTensorsDType(ScalarType t) => t switch
    {
        ScalarType.Float64 => "F64", ScalarType.Float32 => "F32", ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16", ScalarType.Int64 => "I64", ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16", ScalarType.Int8 => "I8", ScalarType.UInt8 => "U8", ScalarType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    /// <summary>A file made by hand: header padded to 8 bytes (unless told), then data.</summary>
    string WriteRaw(string name, string header, byte[] data, ulong? headerLength = null)
    {
        var h = Encoding.UTF8.GetBytes(header).ToList();
        while (h.Count % 8 != 0) h.Add((byte)' ');
        var file = new byte[8 + h.Count + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, headerLength ?? (ulong)h.Count);
        h.CopyTo(file, 8);
        data.CopyTo(file, 8 + h.Count);
        var path = PathOf(name);
        File.WriteAllBytes(path, file);
        return path;
    }

    /// <summary>The expected row-major bytes of a fixture tensor, from its JSON record: bit
    /// patterns for floating dtypes, values for the others.</summary>
    static byte[] ExpectedBytes(JsonElement record)
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

    static long[] ShapeOf(JsonElement record) =>
        record.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();

    static JsonElement Fixture(string name) =>
        JsonDocument.Parse(File.ReadAllBytes(TestSetup.FixturePath(name))).RootElement;

    static ScalarType ToScalarType(string dtype) => AllDTypes.Single(t => SafeTensorsDType(t) == dtype);

    // ---- round trips ----

    [Test]
    public void Round_trip_is_bit_exact_for_every_dtype_and_shape()
    {
        using var scope = DisposeScope.Begin();
        var rng = new Random(1234);
        var tensors = new OrderedDictionary<string, Tensor>();
        foreach (var type in AllDTypes)
            foreach (var shape in AllShapes)
                tensors[$"{type}.[{string.Join(",", shape)}]"] = RandomTensor(type, shape, rng);
        // A transposed view (non-contiguous) and a leaf that requires grad.
        tensors["transposed"] = RandomTensor(ScalarType.Float32, [3, 5], rng).T();
        tensors["requires_grad"] = Torch.Randn([4], device: Device.CPU).RequiresGrad_();
        var metadata = new Dictionary<string, string> { ["epoch"] = "3", ["note"] = "ünïcode ✓ \"quoted\" <tag>" };
        var path = PathOf("all.safetensors");

        SafeTensors.Save(path, tensors, metadata);
        var loaded = SafeTensors.Load(path, Device.CPU);

        Assert.That(loaded.Keys, Is.EqualTo(tensors.Keys), "header keeps the dictionary's order");
        foreach (var (name, t) in tensors)
        {
            var back = loaded[name];
            Assert.That(back.DType, Is.EqualTo(t.DType), name);
            Assert.That(back.Shape, Is.EqualTo(t.Shape), name);
            Assert.That(back.Device, Is.EqualTo(Device.CPU), name);
            Assert.That(back.RequiresGrad, Is.False, name);
            Assert.That(Bytes(back), Is.EqualTo(Bytes(t)), name);
        }
        Assert.That(SafeTensors.LoadMetadata(path), Is.EqualTo(metadata));
    }

    [Test]
    public void Round_trip_through_small_io_chunks_is_bit_exact()
    {
        // Tensors over 1 GiB are written and read in chunks; 7-byte chunks split every element.
        using var scope = DisposeScope.Begin();
        var rng = new Random(7);
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = RandomTensor(ScalarType.Float64, [3, 11], rng),
            ["bool"] = RandomTensor(ScalarType.Bool, [29], rng),
            ["bf16"] = RandomTensor(ScalarType.BFloat16, [13], rng),
        };
        var path = PathOf("chunks.safetensors");
        int saved = SafeTensors.IoChunkBytes;
        OrderedDictionary<string, Tensor> loaded;
        try
        {
            SafeTensors.IoChunkBytes = 7;
            SafeTensors.Save(path, tensors);
            loaded = SafeTensors.Load(path, Device.CPU);
        }
        finally
        {
            SafeTensors.IoChunkBytes = saved;
        }
        foreach (var (name, t) in tensors) Assert.That(Bytes(loaded[name]), Is.EqualTo(Bytes(t)), name);
    }

    [Test]
    public void Empty_dictionary_round_trips()
    {
        var path = PathOf("empty.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor>());
        using var scope = DisposeScope.Begin();
        Assert.That(SafeTensors.Load(path, Device.CPU), Is.Empty);
        Assert.That(SafeTensors.LoadMetadata(path), Is.Empty);
    }

    [Test]
    public void Cuda_tensors_are_saved_from_and_loaded_to_the_gpu()
    {
        if (Torch.Cuda.DeviceCount == 0) Assert.Ignore("no CUDA device");
        using var scope = DisposeScope.Begin();
        var rng = new Random(5);
        var cpu = RandomTensor(ScalarType.Float32, [64, 33], rng);
        var half = RandomTensor(ScalarType.Float16, [5], rng);
        var tensors = new Dictionary<string, Tensor> { ["w"] = cpu.To(Device.CUDA()), ["h"] = half.To(Device.CUDA()).T() };
        var path = PathOf("cuda.safetensors");
        SafeTensors.Save(path, tensors);

        var onGpu = SafeTensors.Load(path, Device.CUDA());
        Assert.That(onGpu["w"].Device.IsCuda, Is.True);
        Assert.That(Bytes(onGpu["w"].Cpu()), Is.EqualTo(Bytes(cpu)));
        Assert.That(Bytes(onGpu["h"].Cpu()), Is.EqualTo(Bytes(half)));
        var onCpu = SafeTensors.Load(path, Device.CPU);
        Assert.That(Bytes(onCpu["w"]), Is.EqualTo(Bytes(cpu)));
    }

    // ---- the format, byte for byte ----

    [Test]
    public void Writer_matches_the_reference_implementations_test_vectors()
    {
        // huggingface/safetensors tensor.rs tests test_serialization and test_empty: the exact
        // bytes its serializer produces for these inputs.
        using var scope = DisposeScope.Begin();
        var path = PathOf("vector.safetensors");

        SafeTensors.Save(path, new Dictionary<string, Tensor>
        {
            ["attn.0"] = Torch.FromArray(new[] { 0f, 1f, 2f, 3f, 4f, 5f }, 1, 2, 3),
        });
        var header = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
        var expected = new List<byte> { 64, 0, 0, 0, 0, 0, 0, 0 };
        expected.AddRange(Encoding.ASCII.GetBytes(header));
        foreach (var f in new[] { 0f, 1f, 2f, 3f, 4f, 5f }) expected.AddRange(BitConverter.GetBytes(f));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(expected));

        SafeTensors.Save(path, new Dictionary<string, Tensor>());
        byte[] empty = [8, 0, 0, 0, 0, 0, 0, 0, .. "{}      "u8];
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(empty));

        SafeTensors.Save(path, new Dictionary<string, Tensor>(), new Dictionary<string, string> { ["framework"] = "pt" });
        byte[] withMetadata = [40, 0, 0, 0, 0, 0, 0, 0, .. "{\"__metadata__\":{\"framework\":\"pt\"}}     "u8];
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(withMetadata));
    }

    [Test]
    public void Written_header_follows_the_spec_read_independently()
    {
        using var scope = DisposeScope.Begin();
        var rng = new Random(99);
        // Mixed element sizes in an order that would misalign wider types if written as given.
        var tensors = new OrderedDictionary<string, Tensor>
        {
            ["flag"] = RandomTensor(ScalarType.Bool, [3], rng),
            ["weight"] = RandomTensor(ScalarType.Float32, [2, 5], rng),
            ["half"] = RandomTensor(ScalarType.Float16, [3], rng),
            ["steps"] = RandomTensor(ScalarType.Int64, [], rng),
            ["empty"] = RandomTensor(ScalarType.Float64, [0, 3], rng),
            ["bytes"] = RandomTensor(ScalarType.UInt8, [5], rng),
        };
        var path = PathOf("spec.safetensors");
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        var file = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.That(n % 8, Is.Zero, "header padded to a multiple of 8");
        var headerBytes = file.AsSpan(8, (int)n);
        Assert.That(headerBytes[0], Is.EqualTo((byte)'{'));
        var text = Encoding.UTF8.GetString(headerBytes);
        var json = text.TrimEnd(' ');
        Assert.That(json, Does.EndWith("}"), "only spaces pad the header");
        var root = JsonDocument.Parse(json).RootElement;
        var data = file.AsSpan(8 + (int)n);

        var names = root.EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(names, Is.EqualTo(new[] { "__metadata__", "flag", "weight", "half", "steps", "empty", "bytes" }));
        Assert.That(root.GetProperty("__metadata__").GetProperty("format").GetString(), Is.EqualTo("pt"));
        var spans = new List<(long Begin, long End)>();
        foreach (var (name, t) in tensors)
        {
            var info = root.GetProperty(name);
            Assert.That(info.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "dtype", "shape", "data_offsets" }), name);
            Assert.That(info.GetProperty("dtype").GetString(), Is.EqualTo(SafeTensorsDType(t.DType)), name);
            Assert.That(ShapeOf(info), Is.EqualTo(t.Shape), name);
            var offsets = info.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.That(offsets, Has.Length.EqualTo(2));
            Assert.That(offsets[0] % t.ElementSize, Is.Zero, $"{name} starts aligned to its element size");
            Assert.That(data[(int)offsets[0]..(int)offsets[1]].ToArray(), Is.EqualTo(Bytes(t)), name);
            spans.Add((offsets[0], offsets[1]));
        }
        long end = 0;
        foreach (var (b, e) in spans.OrderBy(s => s.Begin).ThenBy(s => s.End))
        {
            Assert.That(b, Is.EqualTo(end), "data_offsets contiguous");
            end = e;
        }
        Assert.That(end, Is.EqualTo(data.Length), "data_offsets cover the data section");
    }

    // ---- interop with Python PyTorch ----

    [Test]
    public void Reads_file_written_by_python_with_every_dtype_and_shape()
    {
        using var scope = DisposeScope.Begin();
        var fixture = Fixture("safetensors_dtypes.json");
        var path = TestSetup.FixturePath("safetensors_dtypes.safetensors");

        var loaded = SafeTensors.Load(path, Device.CPU);

        var records = fixture.GetProperty("tensors").EnumerateObject().ToList();
        Assert.That(loaded.Keys, Is.EquivalentTo(records.Select(r => r.Name)));
        foreach (var record in records)
        {
            var t = loaded[record.Name];
            Assert.That(t.DType, Is.EqualTo(ToScalarType(record.Value.GetProperty("dtype").GetString()!)), record.Name);
            Assert.That(t.Shape, Is.EqualTo(ShapeOf(record.Value)), record.Name);
            Assert.That(Bytes(t), Is.EqualTo(ExpectedBytes(record.Value)), record.Name);
        }
        // A few values read back as numbers, not only as bits.
        Assert.That(loaded["scalar_f32"].Item<float>(), Is.EqualTo(3.5f));
        Assert.That(loaded["i64_vec"].ToArray<long>(), Is.EqualTo(new[] { long.MinValue, -1, 0, 1, long.MaxValue }));
        Assert.That(loaded["bool_vec"].ToArray<bool>(), Is.EqualTo(new[] { true, false, true, true }));
        Assert.That(float.IsNaN(loaded["f32_special"].ToArray<float>()[4]), Is.True);

        var metadata = fixture.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.That(SafeTensors.LoadMetadata(path), Is.EqualTo(metadata));
    }

    [Test]
    public void Loads_pytorch_sequential_state_dict_and_reproduces_its_output()
    {
        // Python: torch.manual_seed(0); Sequential(Linear(4, 8), ReLU(), Linear(8, 2)). ReLU has
        // no parameters; Identity holds its place (and its name, "1") and the test applies relu.
        using var scope = DisposeScope.Begin();
        var fixture = Fixture("safetensors_sequential.json");
        var first = new Linear(4, 8);
        var second = new Linear(8, 2);
        using var model = new Sequential(first, new Identity(), second);

        model.LoadSafeTensors(TestSetup.FixturePath("safetensors_sequential.safetensors"));

        var state = fixture.GetProperty("state_dict");
        Assert.That(Bytes(first.Weight), Is.EqualTo(ExpectedBytes(state.GetProperty("0.weight"))));
        Assert.That(Bytes(first.Bias!), Is.EqualTo(ExpectedBytes(state.GetProperty("0.bias"))));
        Assert.That(Bytes(second.Weight), Is.EqualTo(ExpectedBytes(state.GetProperty("2.weight"))));
        Assert.That(Bytes(second.Bias!), Is.EqualTo(ExpectedBytes(state.GetProperty("2.bias"))));
        Assert.That(first.Weight.RequiresGrad, Is.True, "parameters stay parameters");

        var input = fixture.GetProperty("input");
        using var x = FromBytes(ScalarType.Float32, ExpectedBytes(input), ShapeOf(input));
        var y = second.Call(first.Call(x).Relu());
        var output = fixture.GetProperty("output");
        var expected = MemoryMarshal.Cast<byte, float>(ExpectedBytes(output)).ToArray();
        Assert.That(y.Shape, Is.EqualTo(ShapeOf(output)));
        Assert.That(y.ToArray<float>(), Is.EqualTo(expected).Within(1e-6f));
    }

    [Test]
    public void Strict_load_names_the_file_and_the_unexpected_keys()
    {
        using var scope = DisposeScope.Begin();
        var path = TestSetup.FixturePath("safetensors_sequential.safetensors");
        var first = new Linear(4, 8);
        using var model = new Sequential(first);
        var before = Bytes(first.Weight);

        var ex = Assert.Throws<StateDictException>(() => model.LoadSafeTensors(path))!;
        Assert.That(ex.Message, Does.Contain(path));
        Assert.That(ex.Unexpected, Is.EquivalentTo(new[] { "2.weight", "2.bias" }));
        Assert.That(Bytes(first.Weight), Is.EqualTo(before), "nothing copied on failure");

        model.LoadSafeTensors(path, strict: false);
        var state = Fixture("safetensors_sequential.json").GetProperty("state_dict");
        Assert.That(Bytes(first.Weight), Is.EqualTo(ExpectedBytes(state.GetProperty("0.weight"))));
    }

    [Test]
    public void Module_round_trip_restores_every_parameter()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(3);
        using var source = new Sequential(new Linear(5, 7), new Identity(), new Linear(7, 3, bias: false));
        using var target = new Sequential(new Linear(5, 7), new Identity(), new Linear(7, 3, bias: false));
        var path = PathOf("model.safetensors");

        source.SaveSafeTensors(path, new Dictionary<string, string> { ["step"] = "100" });
        target.LoadSafeTensors(path);

        var want = source.StateDict();
        var got = target.StateDict();
        Assert.That(got.Keys, Is.EqualTo(want.Keys));
        foreach (var (name, t) in want) Assert.That(Bytes(got[name]), Is.EqualTo(Bytes(t)), name);
        Assert.That(SafeTensors.LoadMetadata(path), Is.EqualTo(new Dictionary<string, string> { ["format"] = "pt", ["step"] = "100" }));
    }

    // ---- validation ----

    const string F32x2 = "{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":";

    [TestCase("{\"a\":" + F32x2 + "[0,8]},\"b\":" + F32x2 + "[4,12]}}", 12, "overlap", TestName = "Overlapping offsets")]
    [TestCase("{\"a\":" + F32x2 + "[0,8]},\"b\":" + F32x2 + "[12,20]}}", 20, "belong to no tensor", TestName = "Gap between tensors")]
    [TestCase("{\"a\":" + F32x2 + "[4,12]}}", 12, "belong to no tensor", TestName = "Data not starting at zero")]
    [TestCase("{\"a\":" + F32x2 + "[0,8]}}", 12, "cover only 8", TestName = "Trailing bytes after the last tensor")]
    [TestCase("{\"a\":" + F32x2 + "[0,8]}}", 4, "truncated", TestName = "Tensor past the end of the data")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "need 12 bytes", TestName = "Shape and byte count disagree")]
    [TestCase("{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown or unsupported dtype \"Q7\"", TestName = "Unknown dtype")]
    [TestCase("{\"a\":{\"dtype\":\"U16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "unsupported dtype \"U16\"", TestName = "Dtype libtorch lacks")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "non-negative", TestName = "Negative dimension")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "begin <= end", TestName = "Reversed offsets")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets", TestName = "Missing offsets")]
    [TestCase("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", 8, "overflows", TestName = "Shape overflows")]
    [TestCase("{\"a\":5}", 0, "not an object", TestName = "Entry not an object")]
    [TestCase("{\"a\":" + F32x2 + "[0,8]},\"a\":" + F32x2 + "[8,16]}}", 16, "twice", TestName = "Duplicate name")]
    [TestCase("{\"__metadata__\":{\"k\":1}}", 0, "must be strings", TestName = "Metadata value not a string")]
    [TestCase("{\"a\": not json}", 0, "not valid JSON", TestName = "Header not JSON")]
    [TestCase("[1, 2]", 0, "does not start with '{'", TestName = "Header not an object")]
    [TestCase("{\"b\":{\"dtype\":\"BOOL\",\"shape\":[4],\"data_offsets\":[0,4]}}", -2, "booleans must be 0 or 1", TestName = "Bool byte not 0 or 1")]
    public void Corrupt_header_is_a_clear_error_naming_the_file(string header, int dataBytes, string problem)
    {
        // dataBytes -2: four bool bytes 1, 0, 2, 1.
        var data = dataBytes == -2 ? new byte[] { 1, 0, 2, 1 } : new byte[dataBytes];
        var path = WriteRaw("corrupt.safetensors", header, data);
        using var scope = DisposeScope.Begin();

        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path, Device.CPU))!;

        TestContext.Out.WriteLine(ex.Message);
        Assert.That(ex.Message, Does.StartWith(path + ": not a valid safetensors file"));
        Assert.That(ex.Problem, Does.Contain(problem));
        Assert.That(scope.Count, Is.Zero, "no tensor left behind by a failed load");
    }

    [Test]
    public void Truncated_file_is_a_clear_error()
    {
        using var scope = DisposeScope.Begin();
        var path = PathOf("model.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor>
        {
            ["a"] = Torch.Randn([10], device: Device.CPU),
            ["b"] = Torch.Randn([3, 3], device: Device.CPU),
        });
        var bytes = File.ReadAllBytes(path);
        int live = scope.Count;

        foreach (int keep in new[] { bytes.Length - 3, bytes.Length - 36, 20, 8, 5, 0 })
        {
            File.WriteAllBytes(path, bytes[..keep]);
            var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path, Device.CPU))!;
            Assert.That(ex.Message, Does.Contain(path), $"{keep} bytes");
            Assert.That(ex.Problem, Does.Contain("truncated"), $"{keep} bytes: {ex.Problem}");
        }
        Assert.That(scope.Count, Is.EqualTo(live));
    }

    [TestCase(1UL << 40, "limit", TestName = "Header length absurd")]
    [TestCase(4096UL, "only", TestName = "Header length past the end of the file")]
    [TestCase(0UL, "too short", TestName = "Header length zero")]
    public void Bad_header_length_is_a_clear_error(ulong headerLength, string problem)
    {
        var path = WriteRaw("bad-length.safetensors", "{\"a\":" + F32x2 + "[0,8]}}", new byte[8], headerLength);
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path, Device.CPU))!;
        Assert.That(ex.Message, Does.Contain(path));
        Assert.That(ex.Problem, Does.Contain(problem));
    }

    [Test]
    public void Header_padding_and_key_order_of_other_writers_are_accepted()
    {
        // Tensors listed out of data order, unknown extra keys ignored, no metadata, newline
        // and tab whitespace: valid JSON that another writer could produce.
        var header = "{\"b\":{\"data_offsets\":[8,12],\"shape\":[],\"dtype\":\"I32\"},\n\t\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],\"extra\":1}}";
        var data = new byte[12];
        BitConverter.GetBytes(1.5f).CopyTo(data, 0);
        BitConverter.GetBytes(-2f).CopyTo(data, 4);
        BitConverter.GetBytes(42).CopyTo(data, 8);
        var path = WriteRaw("other.safetensors", header, data);
        using var scope = DisposeScope.Begin();

        var loaded = SafeTensors.Load(path, Device.CPU);

        Assert.That(loaded.Keys, Is.EqualTo(new[] { "b", "a" }));
        Assert.That(loaded["a"].ToArray<float>(), Is.EqualTo(new[] { 1.5f, -2f }));
        Assert.That(loaded["b"].Dim, Is.Zero);
        Assert.That(loaded["b"].Item<int>(), Is.EqualTo(42));
    }

    // ---- saving: argument checks and atomic writes ----

    [Test]
    public void Save_rejects_reserved_name_and_unsupported_dtype_before_touching_the_disk()
    {
        using var scope = DisposeScope.Begin();
        var path = PathOf("x.safetensors");
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path,
            new Dictionary<string, Tensor> { ["__metadata__"] = Torch.Zeros([1], device: Device.CPU) }));
        var ex = Assert.Throws<NotSupportedException>(() => SafeTensors.Save(path,
            new Dictionary<string, Tensor> { ["z"] = Torch.Zeros([2], ScalarType.ComplexFloat32, Device.CPU) }))!;
        Assert.That(ex.Message, Does.Contain("'z'").And.Contain("complex64"));
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
    }

    [Test]
    public void Save_replaces_an_existing_file()
    {
        using var scope = DisposeScope.Begin();
        var path = PathOf("m.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["a"] = Torch.Zeros([100], device: Device.CPU) });
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["b"] = Torch.Ones([2], device: Device.CPU) });
        var loaded = SafeTensors.Load(path, Device.CPU);
        Assert.That(loaded.Keys, Is.EqualTo(new[] { "b" }));
        Assert.That(loaded["b"].ToArray<float>(), Is.EqualTo(new[] { 1f, 1f }));
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }));
    }

    [TestCase("io-error")]
    [TestCase("tensor-disposed-mid-write")]
    [TestCase("tensor-disposed-before")]
    public void Failed_save_leaves_the_previous_file_intact_and_no_temp_file(string fault)
    {
        using var scope = DisposeScope.Begin();
        var path = PathOf("ckpt.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["old"] = Torch.Arange(10, device: Device.CPU) });
        var previous = File.ReadAllBytes(path);

        var tensors = new OrderedDictionary<string, Tensor>
        {
            ["w1"] = Torch.Randn([256, 256], device: Device.CPU),
            ["w2"] = Torch.Randn([256, 256], device: Device.CPU),
            ["w3"] = Torch.Randn([256, 256], device: Device.CPU),
        };
        var written = new List<string>();
        Type expected;
        switch (fault)
        {
            case "io-error":
                SafeTensors.AfterTensorWritten = name =>
                {
                    written.Add(name);
                    if (written.Count == 2) throw new IOException("injected: disk full");
                };
                expected = typeof(IOException);
                break;
            case "tensor-disposed-mid-write":
                // The first tensor's bytes are on disk when the last one goes away.
                SafeTensors.AfterTensorWritten = name =>
                {
                    written.Add(name);
                    tensors["w3"].Dispose();
                };
                expected = typeof(ObjectDisposedException);
                break;
            default:
                tensors["w2"].Dispose();
                expected = typeof(ObjectDisposedException);
                break;
        }

        var ex = Assert.Catch(() => SafeTensors.Save(path, tensors))!;

        Assert.That(ex, Is.InstanceOf(expected));
        if (fault != "tensor-disposed-before") Assert.That(written, Is.Not.Empty, "the fault struck mid-write");
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(previous), "previous checkpoint intact");
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }), "no temporary file left");
        SafeTensors.AfterTensorWritten = null;
        Assert.That(SafeTensors.Load(path, Device.CPU)["old"].ToArray<long>(), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)i)));
    }
}
