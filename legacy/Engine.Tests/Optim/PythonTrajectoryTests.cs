using System.Text.Json;
using Engine.Nn;
using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>
/// The engine's optimizers against Python PyTorch 1.13's torch.optim (foreach=False), from the
/// same initial weights on the same batch: parameters after 1, 10, 50 and 150 steps, from
/// Engine.Tests/Fixtures/optimizers.json (scripts/fixtures/make_optimizer_fixtures.py).
/// </summary>
public class PythonTrajectoryTests
{
    /// <summary>Fixture configuration name -> the engine optimizer with the same hyperparameters.</summary>
    internal static readonly Dictionary<string, Func<Tensor[], Optimizer>> Engines = new()
    {
        ["sgd"] = p => new Sgd(p, lr: 0.1),
        ["sgd_momentum_dampening_wd"] = p => new Sgd(p, lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3),
        ["sgd_nesterov"] = p => new Sgd(p, lr: 0.05, momentum: 0.9, nesterov: true),
        ["sgd_maximize"] = p => new Sgd(p, lr: 0.05, momentum: 0.5, maximize: true),
        ["adam"] = p => new Adam(p, lr: 1e-2),
        ["adam_amsgrad_wd"] = p => new Adam(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 1e-2, amsgrad: true),
        ["adam_maximize"] = p => new Adam(p, lr: 1e-2, maximize: true),
        ["adamw"] = p => new AdamW(p, lr: 1e-2, weightDecay: 0.1),
        ["adamw_amsgrad_maximize"] = p => new AdamW(p, lr: 1e-2, weightDecay: 0.1, amsgrad: true, maximize: true),
        ["rmsprop"] = p => new RmsProp(p, lr: 1e-2),
        ["rmsprop_centered"] = p => new RmsProp(p, lr: 1e-2, centered: true),
        ["rmsprop_momentum"] = p => new RmsProp(p, lr: 1e-2, momentum: 0.9),
        ["rmsprop_centered_momentum_wd_maximize"] = p => new RmsProp(p, lr: 1e-2, alpha: 0.9, momentum: 0.5, centered: true, weightDecay: 1e-3, maximize: true),
        ["adagrad"] = p => new Adagrad(p, lr: 0.1),
        ["adagrad_decay_wd_init"] = p => new Adagrad(p, lr: 0.1, lrDecay: 1e-3, weightDecay: 1e-3, initialAccumulatorValue: 0.1),
        ["adagrad_maximize"] = p => new Adagrad(p, lr: 0.1, maximize: true),
        ["adadelta"] = p => new Adadelta(p, lr: 1.0),
        ["adadelta_rho_wd_maximize"] = p => new Adadelta(p, lr: 0.5, rho: 0.8, weightDecay: 1e-3, maximize: true),
        ["adamax"] = p => new Adamax(p, lr: 1e-2),
        ["adamax_wd_maximize"] = p => new Adamax(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, weightDecay: 1e-3, maximize: true),
        ["nadam"] = p => new NAdam(p, lr: 1e-2),
        ["nadam_wd_momentum_decay"] = p => new NAdam(p, lr: 1e-2, weightDecay: 1e-3, momentumDecay: 1e-2),
        ["radam"] = p => new RAdam(p, lr: 1e-2),
        ["radam_wd"] = p => new RAdam(p, lr: 1e-2, beta1: 0.8, beta2: 0.99, weightDecay: 1e-3),
        ["lbfgs"] = p => new Lbfgs(p, lr: 1, maxIter: 5, historySize: 10),
        ["lbfgs_strong_wolfe"] = p => new Lbfgs(p, lr: 1, maxIter: 5, historySize: 10, lineSearch: LbfgsLineSearch.StrongWolfe),
    };

    static readonly Lazy<JsonElement> s_fixture = new(() =>
        JsonDocument.Parse(File.ReadAllText(TestSetup.FixturePath("optimizers.json"))).RootElement);

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var name in Engines.Keys)
            foreach (var impl in new[] { Implementation.Readable, Implementation.Auto })
                foreach (var dtype in new[] { "float64", "float32" })
                    yield return new TestCaseData(name, impl, dtype).SetName($"{name}_{impl}_matches_python_pytorch_{dtype}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Trajectory_matches_python(string name, Implementation impl, string dtypeName)
    {
        var fixture = s_fixture.Value;
        var dtype = dtypeName == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        var config = fixture.GetProperty("configs").GetProperty(name).GetProperty(dtypeName);
        using var model = new Sequential(new Linear(6, 16, device: Device.CPU), new Tanh(), new Linear(16, 3, device: Device.CPU));
        using (var scope = DisposeScope.Begin())
        {
            var init = new Dictionary<string, Tensor>();
            foreach (var p in fixture.GetProperty("init").EnumerateObject()) init[p.Name] = Matrix(p.Value);
            model.LoadStateDict(init);
        }
        model.To(dtype);
        using var x = Matrix(fixture.GetProperty("x")).To(dtype).DetachFromDisposeScope();
        var labels = fixture.GetProperty("y").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        using var y = Torch.FromSpan<long>(labels, [labels.Length], Device.CPU);
        var parameters = model.Parameters().Cast<Tensor>().ToArray();
        using var optimizer = Engines[name](parameters);
        optimizer.Implementation = impl;
        var crossEntropy = Op.Get("aten::cross_entropy_loss");

        // float64 agrees to rounding over 150 steps; float32 to a few ulps per step.
        double rtol = dtype == ScalarType.Float64 ? 1e-10 : 1e-4, atol = dtype == ScalarType.Float64 ? 1e-12 : 1e-6;
        var checkpoints = config.GetProperty("params");
        int last = fixture.GetProperty("steps").EnumerateArray().Max(e => e.GetInt32());
        double worst = 0;
        for (int step = 1; step <= last; step++)
        {
            using var scope = DisposeScope.Begin();
            optimizer.Step(() =>
            {
                model.ZeroGrad();
                var loss = crossEntropy.Call(model.Call(x), y);
                loss.Backward();
                return loss;
            });
            if (!checkpoints.TryGetProperty(step.ToString(), out var expected)) continue;
            var actual = parameters.SelectMany(p => p.To(ScalarType.Float64).Reshape(-1).ToArray<double>()).ToArray();
            var want = expected.EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.That(actual.Length, Is.EqualTo(want.Length));
            for (int i = 0; i < want.Length; i++)
                worst = Math.Max(worst, Math.Abs(actual[i] - want[i]) / (Math.Abs(want[i]) + atol / rtol));
            for (int i = 0; i < want.Length; i++)
                Assert.That(actual[i], Is.EqualTo(want[i]).Within(atol + rtol * Math.Abs(want[i])), $"step {step}, parameter element {i}");
        }
        TestContext.Out.WriteLine($"max relative difference at the checkpoints: {worst:E2}");
    }

    static Tensor Matrix(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() > 0 && e[0].ValueKind == JsonValueKind.Array)
        {
            var rows = e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
            return Torch.FromArray(rows.SelectMany(r => r).ToArray(), rows.Length, rows[0].Length).To(Device.CPU);
        }
        var flat = e.EnumerateArray().Select(v => v.GetDouble()).ToArray();
        return Torch.FromSpan<double>(flat, [flat.Length], Device.CPU);
    }
}
