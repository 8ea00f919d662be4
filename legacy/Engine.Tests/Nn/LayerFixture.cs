using System.Text.Json;
using Engine.Nn;

namespace Engine.Tests.Nn;

/// <summary>
/// One case of Fixtures/layers.json, written by scripts/fixtures/make_layer_fixtures.py with Python
/// PyTorch 1.13: a torch.nn module built right after manual_seed(seed), its initial parameters,
/// fixed inputs, its outputs, fixed output gradients and the resulting gradients.
/// <see cref="Check"/> replays the case on an engine module and compares everything.
/// </summary>
internal sealed class LayerFixture
{
    static readonly Lazy<JsonElement> s_root = new(() =>
        JsonDocument.Parse(File.ReadAllText(TestSetup.FixturePath("layers.json"))).RootElement);

    public static JsonElement Root => s_root.Value;

    readonly JsonElement _case;
    public string Name { get; }

    LayerFixture(string name, JsonElement e)
    {
        Name = name;
        _case = e;
    }

    public static LayerFixture Get(string name) =>
        Root.GetProperty("cases").TryGetProperty(name, out var e) ? new LayerFixture(name, e)
            : throw new KeyNotFoundException($"layers.json has no case '{name}': rerun scripts/fixtures/make_layer_fixtures.py");

    public ulong Seed => _case.GetProperty("seed").GetUInt64();
    public ulong? ForwardSeed => _case.GetProperty("forward_seed").ValueKind == JsonValueKind.Null ? null : _case.GetProperty("forward_seed").GetUInt64();
    public bool Eval => _case.GetProperty("eval").GetBoolean();
    public string Repr => _case.GetProperty("repr").GetString()!;

    public IEnumerable<string> Names(string section) => _case.GetProperty(section).EnumerateObject().Select(p => p.Name);
    public bool Has(string section, string name) => _case.GetProperty(section).TryGetProperty(name, out _);
    public Tensor Tensor(string section, string name) => ToTensor(_case.GetProperty(section).GetProperty(name));

    /// <summary>A fixture tensor on the CPU: float32 values parse as float32 (they were written as
    /// the shortest decimal of each float32), so they are the exact values Python had.</summary>
    public static Tensor ToTensor(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray();
        var data = e.GetProperty("data");
        return e.GetProperty("dtype").GetString() switch
        {
            "float32" => Torch.FromSpan<float>(data.EnumerateArray().Select(v => v.GetSingle()).ToArray(), shape, Device.CPU),
            "float64" => Torch.FromSpan<double>(data.EnumerateArray().Select(v => v.GetDouble()).ToArray(), shape, Device.CPU),
            "int64" => Torch.FromSpan<long>(data.EnumerateArray().Select(v => v.GetInt64()).ToArray(), shape, Device.CPU),
            "bool" => Torch.FromSpan<bool>(data.EnumerateArray().Select(v => v.GetBoolean()).ToArray(), shape, Device.CPU),
            var t => throw new NotSupportedException($"fixture dtype {t}"),
        };
    }

    /// <summary>
    /// Replays the case: seeds and builds the module with <paramref name="make"/> (on the CPU),
    /// checks its printed form (unless <paramref name="checkRepr"/> is false), that its state dict
    /// has PyTorch's names in PyTorch's order and exactly PyTorch's initial values, then runs
    /// <paramref name="forward"/> on the fixture inputs (float inputs require grad, masks do not)
    /// and backward with the fixture's output gradients, and compares outputs and the gradients of
    /// inputs and parameters within |actual − expected| ≤ atol + rtol·|expected|.
    /// </summary>
    public void Check<TModule>(Func<TModule> make, Func<TModule, IReadOnlyDictionary<string, Tensor>, IReadOnlyDictionary<string, Tensor?>> forward,
        double rtol, double atol, bool checkRepr = true) where TModule : Module
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(Seed);
        using var module = make();
        if (checkRepr) Assert.That(module.ToString(), Is.EqualTo(Repr), $"{Name}: printed form");

        var state = module.StateDict();
        Assert.That(state.Keys, Is.EqualTo(Names("params").ToArray()), $"{Name}: state dict names and order");
        foreach (var name in Names("params"))
            LayerParity.AssertExact(state[name], Tensor("params", name), $"{Name}: initial {name} (same seed as PyTorch)");

        var inputs = new Dictionary<string, Tensor>();
        foreach (var name in Names("inputs"))
        {
            var t = Tensor("inputs", name);
            if (t.IsFloatingPoint && !name.EndsWith("mask")) t.RequiresGrad = true;
            inputs[name] = t;
        }
        if (Eval) module.Eval();
        if (ForwardSeed is ulong fs) Torch.ManualSeed(fs);
        var outputs = forward(module, inputs);

        foreach (var name in Names("outputs"))
        {
            Assert.That(outputs.TryGetValue(name, out var actual) && actual is not null, $"{Name}: output '{name}' missing");
            var expected = Tensor("outputs", name);
            if (expected.IsFloatingPoint) LayerParity.AssertClose(actual!, expected, rtol, atol, $"{Name}: output {name}");
            else LayerParity.AssertExact(actual!, expected, $"{Name}: output {name}");
        }
        foreach (var (name, value) in outputs)
            if (value is not null && !Has("outputs", name)) Assert.Fail($"{Name}: output '{name}' is not in the fixture (PyTorch returned None)");

        var diff = Names("grad_outputs").ToArray();
        if (diff.Length > 0)
            Autograd.Backward(diff.Select(n => outputs[n]!).ToArray(), diff.Select(n => (Tensor?)Tensor("grad_outputs", n)).ToArray());
        var parameters = module.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        foreach (var name in Names("grads"))
        {
            var owner = inputs.TryGetValue(name, out var input) ? input : parameters[name];
            var grad = owner.Grad;
            Assert.That(grad, Is.Not.Null, $"{Name}: no gradient for {name}");
            LayerParity.AssertClose(grad!, Tensor("grads", name), rtol, atol, $"{Name}: gradient of {name}");
        }
        foreach (var (name, p) in parameters)
            if (!Has("grads", name))
                Assert.That(p.Grad, Is.Null, $"{Name}: {name} got a gradient; PyTorch's did not");

        if (_case.TryGetProperty("params_after", out _))
        {
            var after = module.StateDict();
            foreach (var name in Names("params_after"))
                LayerParity.AssertClose(after[name], Tensor("params_after", name), rtol, atol, $"{Name}: {name} after the forward");
        }
    }

    /// <summary>
    /// Default initialization parity on bigger shapes (the "init" section): after
    /// manual_seed(1234) the module's state dict equals PyTorch's bit for bit, names and order included.
    /// </summary>
    public static void CheckInit(string name, Func<Module> make)
    {
        using var scope = DisposeScope.Begin();
        var e = Root.GetProperty("init").GetProperty(name);
        Torch.ManualSeed(e.GetProperty("seed").GetUInt64());
        using var module = make();
        var state = module.StateDict();
        var names = e.GetProperty("params").EnumerateObject().Select(p => p.Name).ToArray();
        Assert.That(state.Keys, Is.EqualTo(names), $"init {name}: state dict names and order");
        foreach (var p in e.GetProperty("params").EnumerateObject())
            LayerParity.AssertExact(state[p.Name], ToTensor(p.Value), $"init {name}: {p.Name}");
    }

    /// <summary>Forward for single-input, single-output layers.</summary>
    public static IReadOnlyDictionary<string, Tensor?> Single(Module<Tensor, Tensor> m, IReadOnlyDictionary<string, Tensor> x) =>
        new Dictionary<string, Tensor?> { ["output"] = m.Call(x["input"]) };
}
