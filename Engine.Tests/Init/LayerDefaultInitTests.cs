using Engine.Init;

namespace Engine.Tests.Init;

using Init = Engine.Init.Init;
using TorchInit = TorchSharp.torch.nn.init;

/// <summary>PyTorch's Linear and Conv2d initialize themselves with kaiming_uniform_(a = √5) on the
/// weight and U(−1/√fan_in, 1/√fan_in) on the bias, in that order: Init reproduces both layers'
/// parameters from Python PyTorch 1.13's fixtures, and so does TorchSharp's own layer.</summary>
public class LayerDefaultInitTests
{
    static System.Text.Json.JsonElement Params(string layer) =>
        System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestSetup.FixturePath("layers.json"))).RootElement
            .GetProperty("init").GetProperty(layer);

    static Tensor Value(System.Text.Json.JsonElement e, string name)
    {
        var p = e.GetProperty("params").GetProperty(name);
        var shape = p.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray();
        return tensor(p.GetProperty("data").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray(), shape);
    }

    static long Seed(System.Text.Json.JsonElement e) => long.Parse(e.GetProperty("seed").ToString());

    [TestCase("linear")]
    [TestCase("conv2d")]
    public void Kaiming_uniform_sqrt5_weight_then_uniform_bias_equals_pytorchs_layer(string layer)
    {
        using var scope = NewDisposeScope();
        var e = Params(layer);
        var expectedWeight = Value(e, "weight");
        var expectedBias = Value(e, "bias");
        manual_seed(Seed(e));
        var weight = Init.KaimingUniform_(empty(expectedWeight.shape), a: Math.Sqrt(5));
        double bound = 1 / Math.Sqrt(Init.CalculateFanInAndFanOut(weight).FanIn);
        var bias = Init.Uniform_(empty(expectedBias.shape), -bound, bound);
        Assert.That(weight.bytes.ToArray(), Is.EqualTo(expectedWeight.bytes.ToArray()), "weight");
        Assert.That(bias.bytes.ToArray(), Is.EqualTo(expectedBias.bytes.ToArray()), "bias");
    }

    [Test]
    public void TorchSharps_linear_default_init_equals_pytorchs_too()
    {
        using var scope = NewDisposeScope();
        var e = Params("linear");
        var expectedWeight = Value(e, "weight");
        manual_seed(Seed(e));
        using var linear = nn.Linear(expectedWeight.shape[1], expectedWeight.shape[0]);
        Assert.That(linear.weight!.bytes.ToArray(), Is.EqualTo(expectedWeight.bytes.ToArray()));
        Assert.That(linear.bias!.bytes.ToArray(), Is.EqualTo(Value(e, "bias").bytes.ToArray()));
    }
}
