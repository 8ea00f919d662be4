using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Engine.Checkpoints;
using static Engine.Tests.Checkpoints.CheckpointTestData;

namespace Engine.Tests.Checkpoints;

/// <summary>PyTorch's own checkpoint format (torch.save zip files) through TorchSharp.PyBridge:
/// files written by Python PyTorch 1.13 (scripts/fixtures/make_pytorch_checkpoint_fixture.py),
/// checked bit for bit against the safetensors fixture's JSON record of the same model; files we
/// write read back by Python's torch.load when Debian's python3-torch is installed.</summary>
public class PyTorchCheckpointTests
{
    string _dir = "";

    [SetUp]
    public void CreateFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "engine-pt-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    static string SequentialPt => TestSetup.FixturePath("pytorch_sequential.pt");

    static JsonElement SequentialState => Fixture("safetensors_sequential.json").GetProperty("state_dict");

    [Test]
    public void Reads_python_torch_save_state_dict_bit_exact()
    {
        using var scope = NewDisposeScope();
        var loaded = PyTorchCheckpoint.Load(SequentialPt);
        var state = SequentialState;
        Assert.That(loaded.Keys, Is.EquivalentTo(state.EnumerateObject().Select(p => p.Name)));
        foreach (var record in state.EnumerateObject())
        {
            var t = loaded[record.Name];
            Assert.That(t.dtype, Is.EqualTo(ScalarType.Float32), record.Name);
            Assert.That(t.shape, Is.EqualTo(ShapeOf(record.Value)), record.Name);
            Assert.That(Bytes(t), Is.EqualTo(ExpectedBytes(record.Value)), record.Name);
        }
    }

    [Test]
    public void Loads_python_state_dict_into_torchsharp_sequential_and_reproduces_its_output()
    {
        using var scope = NewDisposeScope();
        var fixture = Fixture("safetensors_sequential.json");
        using var model = PythonSequential();
        model.LoadStateDictPy(SequentialPt);

        var input = fixture.GetProperty("input");
        var y = model.call(FromBytes(ScalarType.Float32, ExpectedBytes(input), ShapeOf(input)));
        var expected = MemoryMarshal.Cast<byte, float>(ExpectedBytes(fixture.GetProperty("output"))).ToArray();
        // Two small float32 GEMMs in a possibly different summation order: a few ulps of ~0.5.
        Assert.That(y.data<float>().ToArray(), Is.EqualTo(expected).Within(1e-6f));
    }

    [Test]
    public void Strict_load_lists_the_problems_and_copies_nothing()
    {
        using var scope = NewDisposeScope();
        using var model = nn.Sequential(("0", nn.Linear(4, 8)), ("1", nn.ReLU()), ("2", nn.Linear(8, 5)));
        var before = Bytes(model.state_dict()["0.weight"]);
        var ex = Assert.Throws<StateDictException>(() => model.LoadStateDictPy(SequentialPt))!;
        Assert.That(ex.Message, Does.Contain(SequentialPt));
        Assert.That(ex.Mismatched, Has.Count.EqualTo(2));
        Assert.That(Bytes(model.state_dict()["0.weight"]), Is.EqualTo(before), "0.weight matched but nothing is copied on failure");
    }

    [Test]
    public void Save_and_load_round_trip_a_module_with_buffers()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var source = nn.Sequential(("0", nn.Linear(3, 6)), ("1", nn.BatchNorm1d(6)));
        using (no_grad()) source.call(randn(8, 3));
        using var target = nn.Sequential(("0", nn.Linear(3, 6)), ("1", nn.BatchNorm1d(6)));
        var path = Path.Combine(_dir, "model.pt");

        source.SaveStateDictPy(path);
        target.LoadStateDictPy(path);

        foreach (var (name, t) in source.state_dict())
            Assert.That(Bytes(target.state_dict()[name]), Is.EqualTo(Bytes(t)), name);
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }), "no temporary file left");
    }

    [Test]
    public void Save_takes_views_of_any_layout()
    {
        using var scope = NewDisposeScope();
        var tensors = new Dictionary<string, Tensor> { ["t"] = randn(3, 4).t(), ["n"] = arange(10).narrow(0, 2, 5) };
        var path = Path.Combine(_dir, "views.pt");
        PyTorchCheckpoint.Save(path, tensors);
        var back = PyTorchCheckpoint.Load(path);
        foreach (var (name, t) in tensors) Assert.That(Bytes(back[name]), Is.EqualTo(Bytes(t)), name);
    }

    [Test]
    public void Python_torch_load_reads_what_we_save()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) Assert.Ignore("no /usr/bin/python3");
        using var scope = NewDisposeScope();
        manual_seed(4);
        using var model = nn.Sequential(("0", nn.Linear(3, 5)), ("1", nn.BatchNorm1d(5)));
        var path = Path.Combine(_dir, "for_python.pt");
        model.SaveStateDictPy(path);

        // Python prints each entry's dtype, shape and raw bytes in hex; compared with ours.
        var script = "import sys, json, torch\n" +
                     "sd = torch.load(sys.argv[1])\n" +
                     "print(json.dumps({k: [str(v.dtype), list(v.shape), v.contiguous().view(torch.uint8).numpy().tobytes().hex() if v.dim() else v.reshape(1).view(torch.uint8).numpy().tobytes().hex()] for k, v in sd.items()}))\n";
        var info = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        info.ArgumentList.Add(path);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 && stderr.Contains("No module named 'torch'")) Assert.Ignore("python3-torch not installed");
        Assert.That(process.ExitCode, Is.Zero, stderr);

        var seen = JsonDocument.Parse(stdout).RootElement;
        var own = model.state_dict();
        Assert.That(seen.EnumerateObject().Select(p => p.Name), Is.EquivalentTo(own.Keys));
        foreach (var (name, t) in own)
        {
            var entry = seen.GetProperty(name);
            Assert.That(entry[1].EnumerateArray().Select(e => e.GetInt64()), Is.EqualTo(t.shape), name);
            Assert.That(Convert.FromHexString(entry[2].GetString()!), Is.EqualTo(Bytes(t)), name);
        }
    }

    [Test]
    public void A_file_that_is_not_a_state_dict_of_tensors_is_a_clear_error()
    {
        using var scope = NewDisposeScope();
        var path = TestSetup.FixturePath("pytorch_not_a_state_dict.pt");
        var ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(path))!;
        Assert.That(ex.Message, Does.Contain(path).And.Contain("'epoch'"));
        Assert.That(scope.DisposablesCount, Is.Zero, "the tensors read before the bad entry are disposed");
    }

    [Test]
    public void Truncated_garbage_and_bit_flipped_files_are_clear_errors()
    {
        var bytes = File.ReadAllBytes(SequentialPt);
        var cases = new List<(string Name, byte[] Bytes)>
        {
            ("half", bytes[..(bytes.Length / 2)]),
            ("last-byte", bytes[..^1]),
            ("ten-bytes", bytes[..10]),
            ("empty", []),
            ("garbage", [1, 2, 3, 4, 5, 6, 7, 8, 9]),
        };
        // One flipped bit inside 0.weight's stored bytes: the zip structure is intact and the file
        // unpickles, so only the CRC check can notice.
        var weight = ExpectedBytes(SequentialState.GetProperty("0.weight"));
        int at = bytes.AsSpan().IndexOf(weight.AsSpan(0, 16));
        Assert.That(at, Is.GreaterThan(0), "0.weight is stored uncompressed");
        var flipped = (byte[])bytes.Clone();
        flipped[at + 5] ^= 0x40;
        cases.Add(("bit-flip", flipped));
        using var scope = NewDisposeScope();
        foreach (var (name, content) in cases)
        {
            var path = Path.Combine(_dir, name + ".pt");
            File.WriteAllBytes(path, content);
            var ex = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(path), name)!;
            TestContext.Out.WriteLine(ex.Message);
            Assert.That(ex.Message, Does.StartWith(path + ":"), name);
        }
        Assert.That(scope.DisposablesCount, Is.Zero);
    }

    [Test]
    public void Save_with_a_disposed_tensor_fails_before_touching_the_old_file()
    {
        using var scope = NewDisposeScope();
        var path = Path.Combine(_dir, "ckpt.pt");
        PyTorchCheckpoint.Save(path, new Dictionary<string, Tensor> { ["a"] = ones(2) });
        var previous = File.ReadAllBytes(path);
        var gone = ones(3);
        gone.Dispose();
        Assert.Throws<ArgumentException>(() => PyTorchCheckpoint.Save(path, new Dictionary<string, Tensor> { ["a"] = ones(2), ["b"] = gone }));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(previous));
        Assert.That(Directory.GetFiles(_dir), Is.EqualTo(new[] { path }));
    }
}
