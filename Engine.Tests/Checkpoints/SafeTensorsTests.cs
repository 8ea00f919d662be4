using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Engine.Checkpoints;
using static Engine.Tests.Checkpoints.CheckpointTestData;

namespace Engine.Tests.Checkpoints;

/// <summary>safetensors: bit-exact round trips, files written to the reference layout by Python
/// PyTorch (scripts/fixtures/make_safetensors_fixture.py), the reference writer's byte-exact test
/// vectors, header validation, atomic writes, and module state dicts.</summary>
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

    static readonly long[][] AllShapes = [[], [1], [7], [2, 3, 4], [0, 3]];

    /// <summary>A file made by hand: header padded to 8 bytes, then data.</summary>
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

    // ---- round trips ----

    [Test]
    public void Round_trip_is_bit_exact_for_every_dtype_and_shape()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(1234);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var type in AllDTypes)
            foreach (var shape in AllShapes)
                tensors[$"{type}.[{string.Join(",", shape)}]"] = RandomTensor(type, shape, rng);
        // A transposed view (non-contiguous), a narrowed view (storage offset) and a leaf that requires grad.
        tensors["transposed"] = RandomTensor(ScalarType.Float32, [3, 5], rng).t();
        tensors["narrowed"] = RandomTensor(ScalarType.Float64, [10], rng).narrow(0, 3, 4);
        tensors["requires_grad"] = randn(4).requires_grad_();
        var metadata = new Dictionary<string, string> { ["epoch"] = "3", ["note"] = "ünïcode ✓ \"quoted\" <tag>" };
        var path = PathOf("all.safetensors");

        SafeTensors.Save(path, tensors, metadata);
        var loaded = SafeTensors.Load(path);

        Assert.That(loaded.Keys, Is.EquivalentTo(tensors.Keys));
        foreach (var (name, t) in tensors)
        {
            var back = loaded[name];
            Assert.That(back.dtype, Is.EqualTo(t.dtype), name);
            Assert.That(back.shape, Is.EqualTo(t.shape), name);
            Assert.That(back.device.type, Is.EqualTo(DeviceType.CPU), name);
            Assert.That(back.requires_grad, Is.False, name);
            Assert.That(Bytes(back), Is.EqualTo(Bytes(t)), name);
        }
        Assert.That(SafeTensors.LoadMetadata(path), Is.EqualTo(metadata));
    }

    [Test]
    public void Round_trip_through_small_io_chunks_is_bit_exact()
    {
        // Tensors over 1 GiB are written and read in chunks; 7-byte chunks make one element per
        // chunk for the wide types and several for the narrow ones.
        using var scope = NewDisposeScope();
        var rng = new Random(7);
        var tensors = new Dictionary<string, Tensor>
        {
            ["f64"] = RandomTensor(ScalarType.Float64, [3, 11], rng),
            ["bool"] = RandomTensor(ScalarType.Bool, [29], rng),
            ["bf16"] = RandomTensor(ScalarType.BFloat16, [13], rng),
            ["u8"] = RandomTensor(ScalarType.Byte, [2, 9], rng),
        };
        var path = PathOf("chunks.safetensors");
        int saved = SafeTensors.IoChunkBytes;
        Dictionary<string, Tensor> loaded;
        try
        {
            SafeTensors.IoChunkBytes = 7;
            SafeTensors.Save(path, tensors);
            loaded = SafeTensors.Load(path);
        }
        finally
        {
            SafeTensors.IoChunkBytes = saved;
        }
        var whole = SafeTensors.Load(path);
        foreach (var (name, t) in tensors)
        {
            Assert.That(Bytes(loaded[name]), Is.EqualTo(Bytes(t)), name);
            Assert.That(Bytes(whole[name]), Is.EqualTo(Bytes(t)), name);
        }
    }

    [Test]
    public void Empty_dictionary_round_trips()
    {
        var path = PathOf("empty.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor>());
        using var scope = NewDisposeScope();
        Assert.That(SafeTensors.Load(path), Is.Empty);
        Assert.That(SafeTensors.LoadMetadata(path), Is.Empty);
    }

    [Test]
    public void Load_leaves_tensors_in_the_callers_scope()
    {
        var path = PathOf("scope.safetensors");
        using (var s = NewDisposeScope())
            SafeTensors.Save(path, new Dictionary<string, Tensor> { ["a"] = ones(3), ["b"] = zeros(2) });
        Dictionary<string, Tensor> loaded;
        using (var scope = NewDisposeScope())
        {
            loaded = SafeTensors.Load(path);
            Assert.That(scope.DisposablesCount, Is.EqualTo(2), "exactly the two loaded tensors, no temporaries");
        }
        Assert.That(loaded.Values.All(t => t.IsInvalid), Is.True, "the scope disposed them");
    }

    [Test]
    public void Cuda_tensors_are_saved_from_and_loaded_to_the_gpu()
    {
        if (!cuda.is_available()) Assert.Ignore("no CUDA device");
        using var scope = NewDisposeScope();
        var rng = new Random(5);
        var cpu = RandomTensor(ScalarType.Float32, [64, 33], rng);
        var half = RandomTensor(ScalarType.Float16, [5, 3], rng);
        var tensors = new Dictionary<string, Tensor> { ["w"] = cpu.cuda(), ["h"] = half.cuda().t() };
        var path = PathOf("cuda.safetensors");
        SafeTensors.Save(path, tensors);

        var onGpu = SafeTensors.Load(path, CUDA);
        Assert.That(onGpu["w"].device.type, Is.EqualTo(DeviceType.CUDA));
        Assert.That(Bytes(onGpu["w"]), Is.EqualTo(Bytes(cpu)));
        Assert.That(Bytes(onGpu["h"]), Is.EqualTo(Bytes(half.t())));
        var onCpu = SafeTensors.Load(path);
        Assert.That(Bytes(onCpu["w"]), Is.EqualTo(Bytes(cpu)));
    }

    // ---- the format, byte for byte ----

    [Test]
    public void Writer_matches_the_reference_implementations_test_vectors()
    {
        // huggingface/safetensors tensor.rs tests test_serialization and test_empty: the exact
        // bytes its serializer produces for these inputs.
        using var scope = NewDisposeScope();
        var path = PathOf("vector.safetensors");

        SafeTensors.Save(path, new Dictionary<string, Tensor>
        {
            ["attn.0"] = tensor(new[] { 0f, 1f, 2f, 3f, 4f, 5f }).reshape(1, 2, 3),
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
        using var scope = NewDisposeScope();
        var rng = new Random(99);
        // Mixed element sizes in an order that would misalign wider types if written as given.
        var tensors = new Dictionary<string, Tensor>
        {
            ["flag"] = RandomTensor(ScalarType.Bool, [3], rng),
            ["weight"] = RandomTensor(ScalarType.Float32, [2, 5], rng),
            ["half"] = RandomTensor(ScalarType.Float16, [3], rng),
            ["steps"] = RandomTensor(ScalarType.Int64, [], rng),
            ["empty"] = RandomTensor(ScalarType.Float64, [0, 3], rng),
            ["bytes"] = RandomTensor(ScalarType.Byte, [5], rng),
            ["ünï"] = RandomTensor(ScalarType.Int16, [2], rng),
        };
        var path = PathOf("spec.safetensors");
        SafeTensors.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        var file = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        Assert.That(n % 8, Is.Zero, "header padded to a multiple of 8");
        var headerBytes = file.AsSpan(8, (int)n);
        Assert.That(headerBytes[0], Is.EqualTo((byte)'{'));
        var json = Encoding.UTF8.GetString(headerBytes).TrimEnd(' ');
        Assert.That(json, Does.EndWith("}"), "only spaces pad the header; N counts UTF-8 bytes");
        var root = JsonDocument.Parse(json).RootElement;
        var data = file.AsSpan(8 + (int)n);

        var names = root.EnumerateObject().Select(p => p.Name).ToList();
        Assert.That(names, Is.EqualTo(new[] { "__metadata__" }.Concat(tensors.Keys)));
        Assert.That(root.GetProperty("__metadata__").GetProperty("format").GetString(), Is.EqualTo("pt"));
        var spans = new List<(long Begin, long End)>();
        foreach (var (name, t) in tensors)
        {
            var info = root.GetProperty(name);
            Assert.That(info.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "dtype", "shape", "data_offsets" }), name);
            Assert.That(info.GetProperty("dtype").GetString(), Is.EqualTo(SafeTensorsDType(t.dtype)), name);
            Assert.That(ShapeOf(info), Is.EqualTo(t.shape), name);
            var offsets = info.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            Assert.That(offsets, Has.Length.EqualTo(2));
            Assert.That(offsets[0] % t.element_size(), Is.Zero, $"{name} starts aligned to its element size");
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
        using var scope = NewDisposeScope();
        var fixture = Fixture("safetensors_dtypes.json");
        var path = TestSetup.FixturePath("safetensors_dtypes.safetensors");

        var loaded = SafeTensors.Load(path);

        var records = fixture.GetProperty("tensors").EnumerateObject().ToList();
        Assert.That(loaded.Keys, Is.EquivalentTo(records.Select(r => r.Name)));
        foreach (var record in records)
        {
            var t = loaded[record.Name];
            Assert.That(t.dtype, Is.EqualTo(ToScalarType(record.Value.GetProperty("dtype").GetString()!)), record.Name);
            Assert.That(t.shape, Is.EqualTo(ShapeOf(record.Value)), record.Name);
            Assert.That(Bytes(t), Is.EqualTo(ExpectedBytes(record.Value)), record.Name);
        }
        // A few values read back as numbers, not only as bits.
        Assert.That(loaded["scalar_f32"].item<float>(), Is.EqualTo(3.5f));
        Assert.That(loaded["i64_vec"].data<long>().ToArray(), Is.EqualTo(new[] { long.MinValue, -1, 0, 1, long.MaxValue }));
        Assert.That(loaded["bool_vec"].data<bool>().ToArray(), Is.EqualTo(new[] { true, false, true, true }));
        Assert.That(float.IsNaN(loaded["f32_special"].data<float>()[4]), Is.True);

        var metadata = fixture.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        Assert.That(SafeTensors.LoadMetadata(path), Is.EqualTo(metadata));
    }

    [Test]
    public void Loads_pytorch_sequential_state_dict_into_torchsharp_sequential_and_reproduces_its_output()
    {
        // Python: torch.manual_seed(0); Sequential(Linear(4, 8), ReLU(), Linear(8, 2)).
        using var scope = NewDisposeScope();
        var fixture = Fixture("safetensors_sequential.json");
        using var model = PythonSequential();

        model.LoadSafeTensors(TestSetup.FixturePath("safetensors_sequential.safetensors"));

        var state = fixture.GetProperty("state_dict");
        var own = model.state_dict();
        foreach (var name in new[] { "0.weight", "0.bias", "2.weight", "2.bias" })
            Assert.That(Bytes(own[name]), Is.EqualTo(ExpectedBytes(state.GetProperty(name))), name);
        Assert.That(model.parameters().All(p => p.requires_grad), Is.True, "parameters stay parameters");

        var input = fixture.GetProperty("input");
        var x = FromBytes(ScalarType.Float32, ExpectedBytes(input), ShapeOf(input));
        var y = model.call(x);
        var output = fixture.GetProperty("output");
        var expected = MemoryMarshal.Cast<byte, float>(ExpectedBytes(output)).ToArray();
        Assert.That(y.shape, Is.EqualTo(ShapeOf(output)));
        // Two small float32 GEMMs: PyTorch 1.13 (OpenBLAS) and libtorch 2.10 (MKL) may sum in a
        // different order; 1e-6 is a few ulps of outputs of size ~0.5.
        Assert.That(y.data<float>().ToArray(), Is.EqualTo(expected).Within(1e-6f));
    }

    [Test]
    public void Strict_load_lists_missing_unexpected_and_misshaped_entries_and_copies_nothing()
    {
        using var scope = NewDisposeScope();
        var path = TestSetup.FixturePath("safetensors_sequential.safetensors");
        // "0" matches, "2" has the wrong shape, "3" is missing from the file.
        using var model = nn.Sequential(("0", nn.Linear(4, 8)), ("1", nn.ReLU()), ("2", nn.Linear(8, 3)), ("3", nn.Linear(3, 1)));
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => Bytes(kv.Value));

        var ex = Assert.Throws<StateDictException>(() => model.LoadSafeTensors(path))!;

        TestContext.Out.WriteLine(ex.Message);
        Assert.That(ex.Message, Does.Contain(path));
        Assert.That(ex.Missing, Is.EquivalentTo(new[] { "3.weight", "3.bias" }));
        Assert.That(ex.Unexpected, Is.Empty);
        Assert.That(ex.Mismatched, Is.EquivalentTo(new[] { "2.weight: expected [3, 8], got [2, 8]", "2.bias: expected [3], got [2]" }));
        foreach (var (name, t) in model.state_dict())
            Assert.That(Bytes(t), Is.EqualTo(before[name]), $"{name}: nothing copied on failure");
    }

    [Test]
    public void Non_strict_load_copies_the_matching_names_but_never_a_wrong_shape()
    {
        using var scope = NewDisposeScope();
        var path = TestSetup.FixturePath("safetensors_sequential.safetensors");
        var state = Fixture("safetensors_sequential.json").GetProperty("state_dict");
        using var first = nn.Sequential(("0", nn.Linear(4, 8)));

        var ex = Assert.Throws<StateDictException>(() => first.LoadSafeTensors(path))!;
        Assert.That(ex.Unexpected, Is.EquivalentTo(new[] { "2.weight", "2.bias" }));

        first.LoadSafeTensors(path, strict: false);
        Assert.That(Bytes(first.state_dict()["0.weight"]), Is.EqualTo(ExpectedBytes(state.GetProperty("0.weight"))));

        using var wrong = nn.Sequential(("0", nn.Linear(4, 7)));
        var before = Bytes(wrong.state_dict()["0.weight"]);
        Assert.Throws<StateDictException>(() => wrong.LoadSafeTensors(path, strict: false));
        Assert.That(Bytes(wrong.state_dict()["0.weight"]), Is.EqualTo(before));
    }

    [Test]
    public void Module_round_trip_restores_parameters_and_buffers()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var norm = nn.BatchNorm1d(7);
        using var source = nn.Sequential(("0", nn.Linear(5, 7)), ("1", norm), ("2", nn.Linear(7, 3, hasBias: false)));
        source.train();
        using (no_grad()) source.call(randn(16, 5)); // moves the running statistics off their initial values
        using var target = nn.Sequential(("0", nn.Linear(5, 7)), ("1", nn.BatchNorm1d(7)), ("2", nn.Linear(7, 3, hasBias: false)));
        var path = PathOf("model.safetensors");

        source.SaveSafeTensors(path, new Dictionary<string, string> { ["step"] = "100" });
        target.LoadSafeTensors(path);

        var want = source.state_dict();
        var got = target.state_dict();
        Assert.That(got.Keys, Is.EquivalentTo(want.Keys));
        Assert.That(want.Keys, Does.Contain("1.running_mean").And.Contain("1.num_batches_tracked"));
        foreach (var (name, t) in want) Assert.That(Bytes(got[name]), Is.EqualTo(Bytes(t)), name);
        Assert.That(SafeTensors.LoadMetadata(path), Is.EqualTo(new Dictionary<string, string> { ["format"] = "pt", ["step"] = "100" }));
        source.eval();
        target.eval();
        var x = randn(4, 5);
        Assert.That(Bytes(target.call(x)), Is.EqualTo(Bytes(source.call(x))), "same outputs: the module still works after load");
    }

    [Test]
    public void Loading_keeps_the_modules_dtype()
    {
        using var scope = NewDisposeScope();
        using var model = PythonSequential();
        model.to(ScalarType.Float64);
        model.LoadSafeTensors(TestSetup.FixturePath("safetensors_sequential.safetensors"));
        var w = model.state_dict()["0.weight"];
        Assert.That(w.dtype, Is.EqualTo(ScalarType.Float64));
        var state = Fixture("safetensors_sequential.json").GetProperty("state_dict");
        var expected = FromBytes(ScalarType.Float32, ExpectedBytes(state.GetProperty("0.weight")), [8, 4]);
        Assert.That(w.equal(expected.to(ScalarType.Float64)).all().item<bool>(), Is.True, "float32 values widened exactly");
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
    [TestCase("{\"a\":{\"dtype\":\"U16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "unsupported dtype \"U16\"", TestName = "Dtype TorchSharp lacks")]
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
        using var scope = NewDisposeScope();

        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path))!;

        TestContext.Out.WriteLine(ex.Message);
        Assert.That(ex.Message, Does.StartWith(path + ": not a valid safetensors file"));
        Assert.That(ex.Problem, Does.Contain(problem));
        Assert.That(scope.DisposablesCount, Is.Zero, "no tensor left behind by a failed load");
    }

    [Test]
    public void Truncated_file_is_a_clear_error()
    {
        using var scope = NewDisposeScope();
        var path = PathOf("model.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["a"] = randn(10), ["b"] = randn(3, 3) });
        var bytes = File.ReadAllBytes(path);
        int live = scope.DisposablesCount;

        foreach (int keep in new[] { bytes.Length - 1, bytes.Length - 3, bytes.Length - 36, 20, 8, 5, 0 })
        {
            File.WriteAllBytes(path, bytes[..keep]);
            var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path))!;
            Assert.That(ex.Message, Does.Contain(path), $"{keep} bytes");
            Assert.That(ex.Problem, Does.Contain("truncated"), $"{keep} bytes: {ex.Problem}");
        }
        Assert.That(scope.DisposablesCount, Is.EqualTo(live));
    }

    [TestCase(1UL << 40, "limit", TestName = "Header length absurd")]
    [TestCase(4096UL, "only", TestName = "Header length past the end of the file")]
    [TestCase(0UL, "too short", TestName = "Header length zero")]
    public void Bad_header_length_is_a_clear_error(ulong headerLength, string problem)
    {
        var path = WriteRaw("bad-length.safetensors", "{\"a\":" + F32x2 + "[0,8]}}", new byte[8], headerLength);
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path))!;
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
        using var scope = NewDisposeScope();

        var loaded = SafeTensors.Load(path);

        Assert.That(loaded.Keys, Is.EquivalentTo(new[] { "b", "a" }));
        Assert.That(loaded["a"].data<float>().ToArray(), Is.EqualTo(new[] { 1.5f, -2f }));
        Assert.That(loaded["b"].dim(), Is.Zero);
        Assert.That(loaded["b"].item<int>(), Is.EqualTo(42));
    }

    [Test]
    public void Missing_file_is_file_not_found()
    {
        Assert.Throws<FileNotFoundException>(() => SafeTensors.Load(PathOf("nothing.safetensors")));
    }

    // ---- saving: argument checks and atomic writes ----

    [Test]
    public void Save_rejects_reserved_name_and_unsupported_dtype_before_touching_the_disk()
    {
        using var scope = NewDisposeScope();
        var path = PathOf("x.safetensors");
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path,
            new Dictionary<string, Tensor> { ["__metadata__"] = zeros(1) }));
        var ex = Assert.Throws<NotSupportedException>(() => SafeTensors.Save(path,
            new Dictionary<string, Tensor> { ["z"] = zeros([2], ScalarType.ComplexFloat32) }))!;
        Assert.That(ex.Message, Does.Contain("'z'").And.Contain("ComplexFloat32"));
        Assert.Throws<ArgumentException>(() => SafeTensors.Save(path,
            new Dictionary<string, Tensor> { ["a"] = zeros(1) }, new Dictionary<string, string> { ["k"] = null! }));
        Assert.That(Directory.GetFiles(_dir), Is.Empty);
    }

    [Test]
    public void Save_replaces_an_existing_file()
    {
        using var scope = NewDisposeScope();
        var path = PathOf("m.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["a"] = zeros(100) });
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["b"] = ones(2) });
        var loaded = SafeTensors.Load(path);
        Assert.That(loaded.Keys, Is.EqualTo(new[] { "b" }));
        Assert.That(loaded["b"].data<float>().ToArray(), Is.EqualTo(new[] { 1f, 1f }));
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }));
    }

    [TestCase("io-error")]
    [TestCase("tensor-disposed-mid-write")]
    [TestCase("tensor-disposed-before")]
    public void Failed_save_leaves_the_previous_file_intact_and_no_temp_file(string fault)
    {
        using var scope = NewDisposeScope();
        var path = PathOf("ckpt.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["old"] = arange(10) });
        var previous = File.ReadAllBytes(path);

        var tensors = new Dictionary<string, Tensor>
        {
            ["w1"] = randn(256, 256),
            ["w2"] = randn(256, 256),
            ["w3"] = randn(256, 256),
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
        Assert.That(SafeTensors.Load(path)["old"].data<long>().ToArray(), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)i)));
    }
}
