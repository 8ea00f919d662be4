using System.Globalization;
using System.Text.Json;
using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>
/// Engine's optimizers against Python PyTorch 1.13's torch.optim (foreach=False), from the same
/// initial weights on the same batch: parameters after 1, 10, 50 and 150 steps, from
/// Engine.Tests/Fixtures/optimizers.json (scripts/fixtures/make_optimizer_fixtures.py) and
/// optimizers_more.json (make_optimizer_fixtures_more.py: ASGD, Rprop, and SGD with maximize and
/// weight decay, where TorchSharp's built-in differs from PyTorch), on every update path.
/// </summary>
public class PythonTrajectoryTests
{
    /// <summary>Fixture configuration name -> the engine optimizer with the same hyperparameters.</summary>
    internal static readonly Dictionary<string, Func<Parameter[], Optimizer>> Engines = new()
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
        // optimizers_more.json
        ["sgd_momentum_maximize_wd"] = p => new Sgd(p, lr: 0.01, momentum: 0.5, weightDecay: 1e-2, maximize: true),
        ["sgd_nesterov_maximize_wd"] = p => new Sgd(p, lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 1e-2, maximize: true),
        ["asgd"] = p => new Asgd(p, lr: 0.05),
        ["asgd_averaging_wd"] = p => new Asgd(p, lr: 0.05, lambd: 1e-3, alpha: 0.6, t0: 20, weightDecay: 1e-3),
        ["asgd_maximize"] = p => new Asgd(p, lr: 0.05, lambd: 1e-3, t0: 20, maximize: true),
        ["rprop"] = p => new Rprop(p, lr: 1e-2),
        ["rprop_etas_steps"] = p => new Rprop(p, lr: 5e-3, etaMinus: 0.3, etaPlus: 1.5, minStep: 1e-4, maxStep: 0.05),
        ["rprop_maximize"] = p => new Rprop(p, lr: 1e-2, maximize: true),
    };

    /// <summary>
    /// Trajectories that bifurcate: past the given step they cannot be compared with another
    /// libtorch build at all, only up to it. Centered RMSprop ascending (maximize) has steady
    /// gradients, so √(v − ḡ²) cancels and amplifies the last ulp of the gradient (libtorch 1.13
    /// against 2.10): within bounds at step 50, 2% apart at step 150. Rprop steps by
    /// sign(g·g_prev), a discontinuous function: once a gradient component is at rounding level
    /// (ascent saturating the softmax, or a weight at its optimum) its sign is the last ulp's, and
    /// the weight then moves by ±Δ, growing by η⁺ each step after: within bounds at step 10
    /// (maximize) and 50, 0.1 apart at 150. The in-process TorchSharp parity on the same libtorch
    /// agrees to the bit over 200 steps for both. Later checkpoints are reported, not asserted.
    /// </summary>
    static readonly Dictionary<string, int> LastComparableStep = new()
    {
        ["rmsprop_centered_momentum_wd_maximize"] = 50,
        ["rprop"] = 50,
        ["rprop_maximize"] = 10,
    };

    static readonly Lazy<JsonElement> s_fixture = new(() => Load("optimizers.json"));
    static readonly Lazy<JsonElement> s_more = new(() => Load("optimizers_more.json"));

    static JsonElement Load(string name) => JsonDocument.Parse(File.ReadAllText(TestSetup.FixturePath(name))).RootElement;

    static JsonElement FixtureOf(string name) =>
        s_fixture.Value.GetProperty("configs").TryGetProperty(name, out _) ? s_fixture.Value : s_more.Value;

    static IEnumerable<TestCaseData> Cases()
    {
        foreach (var name in Engines.Keys)
            foreach (var impl in new[] { Implementation.Readable, Implementation.Fused, Implementation.Flat })
                foreach (var dtype in new[] { "float64", "float32" })
                    yield return new TestCaseData(name, impl, dtype).SetName($"{name}_{impl}_matches_python_pytorch_{dtype}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Trajectory_matches_python(string name, Implementation impl, string dtypeName)
    {
        var fixture = FixtureOf(name);
        var dtype = dtypeName == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        var config = fixture.GetProperty("configs").GetProperty(name).GetProperty(dtypeName);
        using var model = OptimizerHarness.Make(ScalarType.Float64);
        var parameters = model.parameters().ToArray();
        string[] names = ["0.weight", "0.bias", "2.weight", "2.bias"];
        using (no_grad())
            for (int i = 0; i < names.Length; i++)
                parameters[i].copy_(Matrix(fixture.GetProperty("init").GetProperty(names[i])).reshape(parameters[i].shape));
        model.to(dtype);
        parameters = model.parameters().ToArray();   // to(dtype) makes new Parameter objects
        using var x = Matrix(fixture.GetProperty("x")).to(dtype);
        var labels = fixture.GetProperty("y").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        using var y = tensor(labels);
        using var optimizer = Engines[name](parameters);
        optimizer.Implementation = impl;

        // Python ran libtorch 1.13 with Debian's OpenBLAS, this is libtorch 2.10 with MKL: the
        // gradients differ by summation order (a few ulps), and the optimizers' own op order
        // differs on the fused path. float64: 1e-16 a step, grown along 150 steps to ≤1e-11
        // (measured); 1e-9 relative bounds it with margin on any x86-64. float32: 6e-8 a step;
        // adaptive methods near convergence amplify it (g/√v of a gradient at noise level is
        // O(1)), measured ≤1e-4; 1e-3 relative with a 1e-5 floor.
        double rtol = dtype == ScalarType.Float64 ? 1e-9 : 1e-3, atol = dtype == ScalarType.Float64 ? 1e-12 : 1e-5;
        var checkpoints = config.GetProperty("params");
        config.TryGetProperty("ax", out var averages);
        int last = fixture.GetProperty("steps").EnumerateArray().Max(e => e.GetInt32());
        double worst = 0;
        for (int step = 1; step <= last; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.step(() =>
            {
                OptimizerHarness.ZeroInPlace(model);
                var loss = nn.functional.cross_entropy(model.call(x), y);
                loss.backward();
                return loss;
            });
            string key = step.ToString(CultureInfo.InvariantCulture);
            if (!checkpoints.TryGetProperty(key, out var expected)) continue;
            if (LastComparableStep.TryGetValue(name, out int lastComparable) && step > lastComparable)
            {
                var got = parameters.SelectMany(OptimizerHarness.Values).ToArray();
                var want = expected.EnumerateArray().Select(e => e.GetDouble()).ToArray();
                TestContext.Out.WriteLine($"step {step} (after the bifurcation, not asserted): max |difference| {got.Zip(want, (u, v) => Math.Abs(u - v)).Max():E2}");
                continue;
            }
            worst = Math.Max(worst, Compare(parameters.SelectMany(OptimizerHarness.Values).ToArray(), expected, rtol, atol, $"step {step}, parameter"));
            if (averages.ValueKind == JsonValueKind.Object)
                worst = Math.Max(worst, Compare(parameters.SelectMany(p => OptimizerHarness.Values(optimizer.StateOf(p)["ax"])).ToArray(),
                    averages.GetProperty(key), rtol, atol, $"step {step}, averaged parameter (ax)"));
        }
        TestContext.Out.WriteLine($"{name} {impl} {dtypeName}: max relative difference at the checkpoints {worst:E2}");
    }

    static double Compare(double[] actual, JsonElement expected, double rtol, double atol, string what)
    {
        var want = expected.EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.That(actual.Length, Is.EqualTo(want.Length));
        double worst = 0;
        for (int i = 0; i < want.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(actual[i] - want[i]) / (Math.Abs(want[i]) + atol / rtol));
            Assert.That(actual[i], Is.EqualTo(want[i]).Within(atol + rtol * Math.Abs(want[i])), $"{what} element {i}");
        }
        return worst;
    }

    static Tensor Matrix(JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() > 0 && e[0].ValueKind == JsonValueKind.Array)
        {
            var rows = e.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
            return tensor(rows.SelectMany(r => r).ToArray(), new long[] { rows.Length, rows[0].Length });
        }
        return tensor(e.EnumerateArray().Select(v => v.GetDouble()).ToArray());
    }
}
