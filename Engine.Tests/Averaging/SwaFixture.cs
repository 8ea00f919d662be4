using System.Text.Json;
using Engine.Averaging;

namespace Engine.Tests.Averaging;

/// <summary>Engine.Tests/Fixtures/swa.json (scripts/fixtures/make_swa_fixture.py, PyTorch 1.13's
/// torch.optim.swa_utils) and the helpers its tests share.</summary>
static class SwaFixture
{
    static readonly Lazy<JsonElement> Root = new(() => JsonDocument.Parse(File.ReadAllText(TestSetup.FixturePath("swa.json"))).RootElement);

    public static JsonElement Training => Root.Value.GetProperty("training");
    public static JsonElement Swalr => Root.Value.GetProperty("swalr");
    public static JsonElement UpdateBnMomentum => Root.Value.GetProperty("update_bn_momentum");

    /// <summary>A float32 tensor; values were written as the exact double of each float32.</summary>
    public static Tensor F32(JsonElement e)
    {
        var shape = e.GetProperty("shape").EnumerateArray().Select(s => s.GetInt64()).ToArray();
        var data = e.GetProperty("data").EnumerateArray().Select(v => (float)v.GetDouble()).ToArray();
        return tensor(data, shape);
    }

    public static Dictionary<string, Tensor> Tensors(JsonElement e) =>
        e.EnumerateObject().Select(p => (p.Name, F32(p.Value))).ToDictionary(x => x.Name, x => x.Item2);

    /// <summary>The fixture's model: Linear(4,6) → BatchNorm1d(6) → ReLU → Linear(6,3), PyTorch's names,
    /// with TorchSharp's BatchNorm1d or Engine.Normalization's.</summary>
    public static nn.Module<Tensor, Tensor> Model(bool engineBatchNorm = false) => nn.Sequential(
        ("0", nn.Linear(4, 6)),
        ("1", engineBatchNorm ? new Engine.Normalization.BatchNorm1d(6) : nn.BatchNorm1d(6)),
        ("2", nn.ReLU()),
        ("3", nn.Linear(6, 3)));

    /// <summary>The model loaded with the fixture's initial state_dict (num_batches_tracked included).</summary>
    public static nn.Module<Tensor, Tensor> InitialModel(bool engineBatchNorm = false)
    {
        var model = Model(engineBatchNorm);
        var init = Training.GetProperty("init");
        using var _ = no_grad();
        foreach (var (name, t) in model.state_dict())
        {
            var e = init.GetProperty(name);
            if (t.dtype == ScalarType.Int64) t.fill_(e.GetProperty("data")[0].GetDouble());
            else t.copy_(F32(e));
        }
        return model;
    }

    public static (Tensor X, Tensor Y)[] Batches() => Training.GetProperty("batches").EnumerateArray()
        .Select(b => (F32(b.GetProperty("x")), tensor(b.GetProperty("y").EnumerateArray().Select(v => v.GetInt64()).ToArray()))).ToArray();

    public static void CopyParameters(nn.Module model, JsonElement parameters)
    {
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters()) p.copy_(F32(parameters.GetProperty(name)));
    }

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.That(a.shape, Is.EqualTo(b.shape));
        using var d = a.to(ScalarType.Float64).sub(b.to(ScalarType.Float64)).abs().max();
        return d.item<double>();
    }
}

static class TensorAssert
{
    /// <summary>Same shape and every element equal (TorchSharp's Tensor.equal is elementwise, a tensor).</summary>
    public static bool SameValues(this Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var eq = a.eq(b).all();
        return eq.item<bool>();
    }
}
