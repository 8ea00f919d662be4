using System.Text.Json;
using Engine.Schedules;
using TorchSharp.Modules;

namespace Engine.Tests.Schedules;

/// <summary>A TorchSharp built-in optimizer with the fixture's two parameter groups (lr 0.1 and
/// 0.05), as scripts/fixtures/make_schedule_fixtures.py builds it: SGD with momentum 0.9, Adam with
/// betas (0.9, 0.999), or Adagrad (no momentum); also AdamW and RMSprop (momentum 0.9) for the
/// in-process checks. The momentum is read the way TorchSharp's own OneCycleLR writes it: a group's
/// IBetas.Betas.Item1, else its IMomentum.Momentum.</summary>
public sealed class TwoGroups : IDisposable
{
    public static readonly double[] GroupLrs = [0.1, 0.05];

    readonly Parameter[] _params;
    public torch.optim.Optimizer Optimizer { get; }

    /// <param name="defaults">Every hyperparameter left at the optimizer's default (lr 1e-3), as a
    /// resumed run starts before the scheduler's state is loaded.</param>
    public TwoGroups(string kind = "sgd", bool defaults = false)
    {
        _params = [new Parameter(zeros(2)), new Parameter(zeros(3))];
        double Lr(int i) => defaults ? 1e-3 : GroupLrs[i];
        double momentum = defaults ? 0 : 0.9;
        Optimizer = kind switch
        {
            "adam" => torch.optim.Adam(_params.Select((p, i) => new Adam.ParamGroup([p], lr: Lr(i), beta1: 0.9, beta2: 0.999)), lr: 1e-3),
            "adamw" => torch.optim.AdamW(_params.Select((p, i) => new AdamW.ParamGroup([p], lr: Lr(i), beta1: 0.9, beta2: 0.999)), lr: 1e-3),
            "rmsprop" => torch.optim.RMSProp(_params.Select((p, i) => new RMSProp.ParamGroup([p], lr: Lr(i), momentum: momentum)), lr: 1e-3),
            "adagrad" => torch.optim.Adagrad(_params.Select((p, i) => new Adagrad.ParamGroup([p], lr: Lr(i))), lr: 1e-3),
            "sgd" => torch.optim.SGD(_params.Select((p, i) => new SGD.ParamGroup([p], lr: Lr(i), momentum: momentum)), 1e-3),
            _ => throw new ArgumentException($"TwoGroups: unknown optimizer {kind}", nameof(kind)),
        };
    }

    public IReadOnlyList<Parameter> Parameters => _params;

    public double[] Lrs => Optimizer.ParamGroups.Select(g => g.LearningRate).ToArray();

    /// <summary>Each group's momentum (SGD, RMSprop) or β₁ (Adam, AdamW); null for Adagrad.</summary>
    public double?[] Momenta => Optimizer.ParamGroups.Select(MomentumOf).ToArray();

    public static double? MomentumOf(torch.optim.ILearningRateController group) => group switch
    {
        torch.optim.IBetas b => b.Betas.Item1,
        torch.optim.IMomentum m => m.Momentum,
        _ => null,
    };

    /// <summary>One optimizer step on the loss Σ w·p + ½ Σ p² (gradient w + p), so the parameters
    /// record the lr and momentum every step used.</summary>
    public void TrainStep(int step)
    {
        using var scope = torch.NewDisposeScope();
        Optimizer.zero_grad();
        Tensor loss = zeros(1);
        foreach (var p in _params)
        {
            var w = arange(p.shape[0], dtype: p.dtype).add(1.0).mul(Math.Sin(step + 1));
            loss = loss + w.mul(p).sum() + p.pow(2).sum().mul(0.5);
        }
        loss.backward();
        Optimizer.step();
    }

    public float[] ParameterValues => _params.SelectMany(p => p.data<float>().ToArray()).ToArray();

    public void Dispose()
    {
        Optimizer.Dispose();
        foreach (var p in _params) p.Dispose();
    }
}

/// <summary>The fixture: PyTorch 1.13's learning rates per configuration and step.</summary>
internal static class ScheduleFixture
{
    internal sealed record Config(string Name, int Steps, string Optimizer, double[][] Lr, double[][]? Closed, double[][]? Momentum, double[]? Metrics);

    static readonly Lazy<Dictionary<string, Config>> s_configs = new(Load);

    public static IReadOnlyDictionary<string, Config> Configs => s_configs.Value;

    static Dictionary<string, Config> Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestSetup.FixturePath("schedules.json")));
        var result = new Dictionary<string, Config>();
        foreach (var c in doc.RootElement.GetProperty("configs").EnumerateObject())
        {
            var v = c.Value;
            double[][]? Rows(string key) => v.TryGetProperty(key, out var e) ? e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetDouble()).ToArray()).ToArray() : null;
            double[]? Flat(string key) => v.TryGetProperty(key, out var e) ? e.EnumerateArray().Select(x => x.GetDouble()).ToArray() : null;
            result[c.Name] = new Config(c.Name, v.GetProperty("steps").GetInt32(), v.GetProperty("optimizer").GetString()!, Rows("lr")!, Rows("closed"), Rows("momentum"), Flat("metrics"));
        }
        return result;
    }

    /// <summary>|a − b| ≤ tol · max(|a|, |b|): a relative error, exact at zero.</summary>
    public static double RelativeError(double a, double b)
    {
        if (a == b) return 0;
        return Math.Abs(a - b) / Math.Max(Math.Abs(a), Math.Abs(b));
    }
}

/// <summary>Every fixture configuration as the engine writes it: one schedule per group.</summary>
internal static class ScheduleCases
{
    static Func<Schedule[]> Same(Func<Schedule> make) => () => [make(), make()];

    /// <summary>Fixture name -> the engine schedules (one per group) PyTorch's scheduler stands for.</summary>
    public static readonly Dictionary<string, Func<Schedule[]>> PyTorch = new()
    {
        ["constant_identity"] = Same(() => new Constant()),
        ["lambda_per_group"] = () => [new LambdaLR(e => 1.0 / (1.0 + 0.05 * e)), new LambdaLR(e => Math.Pow(0.95, e) * (1 + 0.1 * Math.Sin(e)))],
        ["multiplicative"] = Same(() => new MultiplicativeLR(e => e % 3 != 0 ? 0.97 : 1.01)),
        ["step"] = Same(() => new StepLR(30, 0.1)),
        ["step_half_every_7"] = Same(() => new StepLR(7, 0.5)),
        ["multistep_resnet"] = Same(() => new MultiStepLR([30, 60, 90], 0.1)),
        ["constant_warmup"] = Same(() => new ConstantLR(0.25, 40)),
        ["linear_warmup"] = Same(() => new LinearLR(0.1, 1.0, 50)),
        ["linear_decay_to_zero"] = Same(() => new LinearLR(1.0, 0.0, 200)),
        ["linear_decay_partial"] = Same(() => new LinearLR(0.9, 0.2, 150)),
        ["exponential"] = Same(() => new ExponentialLR(0.98)),
        ["polynomial_square"] = Same(() => new PolynomialLR(200, 2.0)),
        ["polynomial_linear"] = Same(() => new PolynomialLR(100, 1.0)),
        ["polynomial_sqrt"] = Same(() => new PolynomialLR(90, 0.5)),
        ["cosine_eta_min"] = Same(() => new CosineAnnealingLR(50, etaMin: 1e-3)),
        ["cosine"] = Same(() => new CosineAnnealingLR(100)),
        ["cosine_t1"] = Same(() => new CosineAnnealingLR(1, etaMin: 1e-3)),
        ["warm_restarts_tmult2"] = Same(() => new CosineAnnealingWarmRestarts(10, 2, 1e-3)),
        ["warm_restarts_tmult1"] = Same(() => new CosineAnnealingWarmRestarts(25)),
        ["warm_restarts_tmult3"] = Same(() => new CosineAnnealingWarmRestarts(4, 3, 0.01)),
        ["onecycle_cos_sgd"] = Same(() => new OneCycleLR(0.5, 300)),
        ["onecycle_linear_three_phase_adam"] = Same(() => new OneCycleLR(0.02, 240, pctStart: 0.25, annealStrategy: AnnealStrategy.Linear, threePhase: true,
            divFactor: 10, finalDivFactor: 100, baseMomentum: 0.8, maxMomentum: 0.9)),
        ["onecycle_cos_three_phase_per_group"] = () =>
        [
            new OneCycleLR(0.4, 8 * 25, pctStart: 0.4, threePhase: true, cycleMomentum: false),
            new OneCycleLR(0.2, 8 * 25, pctStart: 0.4, threePhase: true, cycleMomentum: false),
        ],
        ["cyclic_triangular"] = Same(() => new CyclicLR(0.01, 0.1, 20, 30)),
        ["cyclic_triangular2"] = Same(() => new CyclicLR(0.001, 0.1, 15, mode: CyclicMode.Triangular2, baseMomentum: 0.85, maxMomentum: 0.95)),
        ["cyclic_exp_range"] = Same(() => new CyclicLR(0.01, 0.2, 25, mode: CyclicMode.ExpRange, gamma: 0.995)),
        ["cyclic_per_group_no_momentum"] = () =>
        [
            new CyclicLR(0.01, 0.1, 12, 8, cycleMomentum: false),
            new CyclicLR(0.005, 0.05, 12, 8, cycleMomentum: false),
        ],
        ["sequential_warmup_cosine"] = Same(() => new SequentialLR([new LinearLR(0.1, 1.0, 20), new CosineAnnealingLR(180, etaMin: 1e-4)], [20])),
        ["sequential_three"] = Same(() => new SequentialLR([new ConstantLR(0.5, 10), new ExponentialLR(0.95), new StepLR(20, 0.5)], [15, 60])),
        ["sequential_warmup_multiplicative"] = Same(() => new SequentialLR([new LinearLR(0.25, 1.0, 10), new MultiplicativeLR(e => 0.98)], [12])),
        ["sequential_warmup_restarts"] = Same(() => new SequentialLR([new LinearLR(0.2, 1.0, 10), new CosineAnnealingWarmRestarts(20, 2)], [10])),
        ["sequential_multistep_polynomial"] = Same(() => new SequentialLR([new MultiStepLR([5, 15], 0.5), new PolynomialLR(100, 1.5)], [30])),
        ["chained_constant_exponential"] = Same(() => new ChainedScheduler(new ConstantLR(0.1, 20), new ExponentialLR(0.97))),
        ["chained_linear_cosine"] = Same(() => new ChainedScheduler(new LinearLR(0.25, 1.0, 30), new CosineAnnealingLR(60))),
        ["chained_linear_cosine_eta_min"] = Same(() => new ChainedScheduler(new LinearLR(0.25, 1.0, 30), new CosineAnnealingLR(60, etaMin: 1e-3))),
        ["chained_step_multistep_polynomial"] = Same(() => new ChainedScheduler(new StepLR(25, 0.8), new MultiStepLR([40, 90], 0.5), new PolynomialLR(120, 1.0))),
    };

    /// <summary>Chains whose closed form is not PyTorch's stepped value (a cosine floor inside a
    /// chain: PyTorch has no closed form for it).</summary>
    public static readonly HashSet<string> NoClosedForm = ["chained_linear_cosine_eta_min"];

    /// <summary>Fixture name -> ReduceLROnPlateau as configured there.</summary>
    public static readonly Dictionary<string, Func<torch.optim.Optimizer, ReduceLROnPlateau>> Plateaus = new()
    {
        ["plateau_min_rel"] = o => new ReduceLROnPlateau(o, PlateauMode.Min, factor: 0.5, patience: 3, threshold: 1e-2, cooldown: 2, minLrPerGroup: [1e-3, 1e-4]),
        ["plateau_min_abs"] = o => new ReduceLROnPlateau(o, PlateauMode.Min, factor: 0.2, patience: 5, threshold: 1e-3, thresholdMode: ThresholdMode.Abs, minLr: 1e-7),
        ["plateau_max_abs_eps"] = o => new ReduceLROnPlateau(o, PlateauMode.Max, factor: 0.3, patience: 2, threshold: 0.005, thresholdMode: ThresholdMode.Abs, eps: 1e-3),
        ["plateau_max_rel_defaults"] = o => new ReduceLROnPlateau(o, PlateauMode.Max, patience: 4),
    };

    /// <summary>Schedules with no PyTorch counterpart (Keras formulas, the seed's compositions),
    /// name -> (schedules, steps, optimizer).</summary>
    public static readonly Dictionary<string, (Func<Schedule[]> Make, int Steps)> EngineOnly = new()
    {
        ["constant_value"] = (Same(() => new Constant(0.02)), 30),
        ["piecewise_constant_seed"] = (Same(() => new PiecewiseConstantDecay([300, 600, 800], [0.1, 0.01, 0.001, 0.0001])), 1000),
        ["exponential_decay_seed"] = (Same(() => new ExponentialLR(0.96, decaySteps: 100)), 1000),
        ["exponential_decay_staircase"] = (Same(() => new ExponentialLR(0.5, decaySteps: 7, staircase: true)), 100),
        ["inverse_time"] = (Same(() => new InverseTimeDecay(10, 0.5)), 200),
        ["inverse_time_staircase"] = (Same(() => new InverseTimeDecay(10, 0.5, staircase: true)), 200),
        ["inverse_sqrt"] = (Same(() => new InverseSqrt()), 200),
        ["inverse_sqrt_warmup"] = (Same(() => new InverseSqrt(timescale: 40).WithWarmup(40)), 300),
        ["cosine_decay_alpha_keras"] = (Same(() => new CosineAnnealingLR(100, alpha: 0.1).HoldAfter(100)), 250),
        ["warmup_cosine_seed"] = (Same(() => Schedule.WarmupCosine(100, 1000)), 1000),
        ["onecycle_held"] = (Same(() => new OneCycleLR(0.5, 50).HoldAfter(50)), 120),
    };
}
