using Engine.Init;

namespace Engine.Tests.Init;

using Init = Engine.Init.Init;
using TorchInit = TorchSharp.torch.nn.init;

/// <summary>
/// Engine's Init against Python PyTorch 1.13's torch.nn.init (fixtures from
/// scripts/fixtures/make_layer_fixtures.py): the same float32 values after the same seed. This is
/// what decides xavier_normal_, where TorchSharp 0.107's own draws a different stream.
/// </summary>
public class InitPythonFixtureTests
{
    static readonly Dictionary<string, Action<Tensor>> Functions = new()
    {
        ["kaiming_uniform_default"] = t => Init.KaimingUniform_(t),
        ["kaiming_uniform_a_sqrt5"] = t => Init.KaimingUniform_(t, a: Math.Sqrt(5)),
        ["kaiming_uniform_fan_out_relu"] = t => Init.KaimingUniform_(t, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu),
        ["kaiming_normal_default"] = t => Init.KaimingNormal_(t),
        ["kaiming_normal_fan_out_relu"] = t => Init.KaimingNormal_(t, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu),
        ["xavier_uniform_default"] = t => Init.XavierUniform_(t),
        ["xavier_uniform_tanh_gain"] = t => Init.XavierUniform_(t, gain: Init.CalculateGain(Nonlinearity.Tanh)),
        ["xavier_normal_default"] = t => Init.XavierNormal_(t),
        ["xavier_normal_gain2"] = t => Init.XavierNormal_(t, gain: 2.0),
        ["uniform_default"] = t => Init.Uniform_(t),
        ["uniform_ab"] = t => Init.Uniform_(t, -0.3, 0.8),
        ["normal_default"] = t => Init.Normal_(t),
        ["normal_mean_std"] = t => Init.Normal_(t, 2.0, 0.5),
        ["constant"] = t => Init.Constant_(t, 0.25),
        ["ones"] = t => Init.Ones_(t),
        ["zeros"] = t => Init.Zeros_(t),
    };

    static IEnumerable<string> Names => Functions.Keys;

    static System.Text.Json.JsonElement Fixture(string name) =>
        System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestSetup.FixturePath("layers.json"))).RootElement.GetProperty("init_functions").GetProperty(name);

    static (Tensor Value, long Seed, long[] Shape) Expected(string name)
    {
        var e = Fixture(name);
        var shape = e.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray();
        var data = e.GetProperty("value").GetProperty("data").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        Assert.That(e.GetProperty("value").GetProperty("dtype").GetString(), Is.EqualTo("float32"));
        return (tensor(data, shape), e.GetProperty("seed").GetInt64(), shape);
    }

    [TestCaseSource(nameof(Names))]
    public void Equals_python_torch_nn_init_after_the_same_seed(string name)
    {
        using var scope = NewDisposeScope();
        var (expected, seed, shape) = Expected(name);
        manual_seed(seed);
        var t = empty(shape);
        Functions[name](t);
        // The JSON holds float32 values printed with 9 significant digits, which round-trip exactly.
        Assert.That(t.bytes.ToArray(), Is.EqualTo(expected.bytes.ToArray()), name);
    }

    [Test]
    public void TorchSharp_xavier_normal_is_not_pythons_stream_while_ours_is()
    {
        using var scope = NewDisposeScope();
        var (expected, seed, shape) = Expected("xavier_normal_default");
        manual_seed(seed);
        var theirs = nn.init.xavier_normal_(empty(shape));
        manual_seed(seed);
        var ours = Init.XavierNormal_(empty(shape));
        Assert.That(ours.bytes.ToArray(), Is.EqualTo(expected.bytes.ToArray()));
        Assert.That(theirs.bytes.ToArray(), Is.Not.EqualTo(expected.bytes.ToArray()),
            "TorchSharp's xavier_normal_ now follows PyTorch: compare with it directly in InitTests");
    }
}
