using System.Text.Json;
using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>
/// NAdam, RAdam and L-BFGS against Python PyTorch 1.13's torch.optim (foreach=False), from the
/// same initial weights on the same batch: parameters after 1, 10, 50 and 150 steps, from
/// Engine.Tests/Fixtures/optimizers.json (scripts/fixtures/make_optimizer_fixtures.py). NAdam is
/// compared with <see cref="NAdamOptions.Pytorch113LookAhead"/> on: 1.13's look-ahead divides by
/// 1 − Πμ·μₜ·μₜ₊₁, 2.x's (Engine's default, TorchSharp's) by 1 − Πμ·μₜ₊₁.
/// </summary>
public class TrajectoryFixtureTests
{
    static Func<Parameter[], Optimizer> NAdam113(double lr, double weightDecay = 0, double momentumDecay = 4e-3) =>
        p => new NAdam([new ParamGroupSpec(p, o => ((NAdamOptions)o).Pytorch113LookAhead = true)], lr: lr, weightDecay: weightDecay, momentumDecay: momentumDecay);

    /// <summary>Fixture configuration name -> the Engine optimizer with the same hyperparameters.</summary>
    static readonly Dictionary<string, Func<Parameter[], Optimizer>> Engines = new()
    {
        ["nadam"] = NAdam113(1e-2),
        ["nadam_wd_momentum_decay"] = NAdam113(1e-2, weightDecay: 1e-3, momentumDecay: 1e-2),
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
                    yield return new TestCaseData(name, impl, dtype).SetName($"{name}_{impl}_matches_python_pytorch_1_13_{dtype}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Trajectory_matches_python(string name, Implementation impl, string dtypeName)
    {
        var fixture = s_fixture.Value;
        var dtype = dtypeName == "float64" ? ScalarType.Float64 : ScalarType.Float32;
        var config = fixture.GetProperty("configs").GetProperty(name).GetProperty(dtypeName);
        using var model = nn.Sequential(nn.Linear(6, 16, dtype: dtype), nn.Tanh(), nn.Linear(16, 3, dtype: dtype));
        var named = model.named_parameters().ToDictionary(np => np.name, np => np.parameter);
        using (no_grad())
            foreach (var p in fixture.GetProperty("init").EnumerateObject())
            {
                Assert.That(named.ContainsKey(p.Name), $"model has no parameter {p.Name} (it has {string.Join(", ", named.Keys)})");
                using var value = Matrix(p.Value);
                named[p.Name].copy_(value);
            }
        using var x = Matrix(fixture.GetProperty("x")).to(dtype).DetachFromDisposeScope();
        var labels = fixture.GetProperty("y").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        using var y = tensor(labels);
        var parameters = model.parameters().ToArray();
        using var optimizer = Engines[name](parameters);
        optimizer.Implementation = impl;

        // float64: Engine and Python differ only in rounding (libtorch 2.10's MKL against 1.13's
        // BLAS in the forward and backward passes, 1e-16 a step, grown along the trajectory):
        // measured ≤ 3.5e-14 for RAdam; L-BFGS's quasi-Newton steps amplify more (measured 1e-10 to
        // 1.3e-9 from run to run: MKL's threaded GEMM does not fix its summation order). NAdam more:
        // PyTorch 1.13 keeps Πμ as a float32 tensor even for float64 parameters, where Engine (and
        // TorchSharp) keep a double, so its step sizes differ by up to 6e-8 relative (measured
        // ≤ 5.1e-7). float32: a few ulps a step (measured ≤ 2.7e-5 at step 150). L-BFGS in float32
        // is compared after the first step (5 iterations) only: at lr = 1 without line search (and
        // with strong Wolfe, through its line-search decisions) the float32 trajectory amplifies
        // the two builds' gradient differences, 1e-7, to 0.5 (no line search) or 0.04 (strong
        // Wolfe) by step 10, while in float64 it follows Python to 1e-9; in the same process it
        // follows libtorch's own L-BFGS bit for bit (LbfgsTests).
        bool nadam = name.StartsWith("nadam"), lbfgs = name.StartsWith("lbfgs");
        double rtol = dtype == ScalarType.Float64 ? (nadam ? 1e-5 : lbfgs ? 1e-7 : 1e-9) : 3e-4, atol = dtype == ScalarType.Float64 ? 1e-12 : 1e-6;
        int lastCompared = lbfgs && dtype == ScalarType.Float32 ? 1 : int.MaxValue;
        var checkpoints = config.GetProperty("params");
        int last = fixture.GetProperty("steps").EnumerateArray().Max(e => e.GetInt32());
        double worst = 0;
        for (int step = 1; step <= last; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.step(() =>
            {
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(model.call(x), y);
                loss.backward();
                return loss;
            });
            if (step > lastCompared || !checkpoints.TryGetProperty(step.ToString(), out var expected)) continue;
            var actual = parameters.SelectMany(p => p.detach().to(ScalarType.Float64).reshape(-1).data<double>().ToArray()).ToArray();
            var want = expected.EnumerateArray().Select(e => e.GetDouble()).ToArray();
            Assert.That(actual.Length, Is.EqualTo(want.Length));
            double here = 0;
            for (int i = 0; i < want.Length; i++)
                here = Math.Max(here, Math.Abs(actual[i] - want[i]) / (Math.Abs(want[i]) + atol / rtol));
            TestContext.Out.WriteLine($"step {step}: max relative difference {here:E2}");
            worst = Math.Max(worst, here);
        }
        Assert.That(worst, Is.LessThan(rtol));
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
