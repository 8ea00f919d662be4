using System.Text.Json;
using Engine.Nn;

namespace Engine.Tests.Nn;

/// <summary>Engine's Init against torch.nn.init: the same values after the same seed (Python fixtures).</summary>
public class InitTests
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

    [TestCaseSource(nameof(Names))]
    public void Init_function_equals_torch_nn_init_after_same_seed(string name)
    {
        using var scope = DisposeScope.Begin();
        var e = LayerFixture.Root.GetProperty("init_functions").GetProperty(name);
        var shape = e.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray();
        Torch.ManualSeed(e.GetProperty("seed").GetUInt64());
        var t = Torch.Empty(shape, device: Device.CPU);
        Functions[name](t);
        LayerParity.AssertExact(t, LayerFixture.ToTensor(e.GetProperty("value")), name);
    }

    [Test]
    public void Init_works_on_parameters_that_require_grad_without_recording_autograd()
    {
        using var scope = DisposeScope.Begin();
        using var p = new Parameter(Torch.Empty([4, 3], device: Device.CPU));
        Init.KaimingNormal_(p, nonlinearity: Nonlinearity.Relu);
        Assert.That(p.IsLeaf && p.RequiresGrad && p.GradFn is null);
    }

    [Test]
    public void CalculateGain_equals_torch_nn_init_calculate_gain()
    {
        var gains = LayerFixture.Root.GetProperty("gains");
        (string Key, double Value)[] ours =
        [
            ("linear", Init.CalculateGain(Nonlinearity.Linear)), ("conv2d", Init.CalculateGain(Nonlinearity.Conv2d)),
            ("sigmoid", Init.CalculateGain(Nonlinearity.Sigmoid)), ("tanh", Init.CalculateGain(Nonlinearity.Tanh)),
            ("relu", Init.CalculateGain(Nonlinearity.Relu)), ("leaky_relu", Init.CalculateGain(Nonlinearity.LeakyRelu)),
            ("leaky_relu:0.2", Init.CalculateGain(Nonlinearity.LeakyRelu, 0.2)),
            ("leaky_relu:2.23606797749979", Init.CalculateGain(Nonlinearity.LeakyRelu, Math.Sqrt(5))),
            ("selu", Init.CalculateGain(Nonlinearity.Selu)),
        ];
        foreach (var (key, value) in ours)
            Assert.That(value, Is.EqualTo(gains.GetProperty(key).GetDouble()), key);
    }

    [Test]
    public void Fans_follow_torch_for_linear_and_conv_weights()
    {
        using var scope = DisposeScope.Begin();
        Assert.That(Init.CalculateFanInAndFanOut(Torch.Empty([10, 20], device: Device.CPU)), Is.EqualTo((20L, 10L)));
        Assert.That(Init.CalculateFanInAndFanOut(Torch.Empty([8, 3, 5, 7], device: Device.CPU)), Is.EqualTo((105L, 280L)));
        Assert.Throws<ArgumentException>(() => Init.CalculateFanInAndFanOut(Torch.Empty([10], device: Device.CPU)));
    }

    [Test]
    public void Linear_default_init_equals_pytorch_after_same_seed() =>
        LayerFixture.CheckInit("linear", () => new Linear(37, 23, device: Device.CPU));
}
