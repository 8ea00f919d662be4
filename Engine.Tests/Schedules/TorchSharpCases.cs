using Engine.Schedules;
using TS = TorchSharp.torch.optim.lr_scheduler;
using TSImpl = TorchSharp.torch.optim.lr_scheduler.impl;

namespace Engine.Tests.Schedules;

/// <summary>
/// One configuration written twice: with TorchSharp 0.107's torch.optim.lr_scheduler and with
/// Engine's schedules, each driving its own TorchSharp built-in optimizer (two groups, lr 0.1 and
/// 0.05). <see cref="Fixture"/> names the PyTorch 1.13 configuration of schedules.json it repeats,
/// if any.
/// </summary>
internal sealed record TorchSharpCase(
    string Name,
    string Optimizer,
    int Steps,
    Func<torch.optim.Optimizer, TS.LRScheduler> TorchSharp,
    Func<torch.optim.Optimizer, LRScheduler> Engine,
    bool Momentum = false,
    string? Fixture = null,
    double[]? Metrics = null);

/// <summary>Everything recorded from one run: lr and momentum of each group at steps 0..N, and the
/// parameters after the last optimizer step.</summary>
internal sealed record Trace(double[][] Lr, double?[][] Momentum, float[] Parameters);

internal static class TorchSharpCases
{
    static Func<torch.optim.Optimizer, LRScheduler> Engine(Func<Schedule> make) => o => make().Attach(o, StepEvery.Batch);
    static Func<torch.optim.Optimizer, LRScheduler> Engine(Func<Schedule[]> make) => o => new Scheduler(o, make(), StepEvery.Batch);

    static double[] Metrics(string fixture) => ScheduleFixture.Configs[fixture].Metrics!;

    /// <summary>The metric a plateau case without fixture sees: falls, stalls with noise, rises.</summary>
    static double[] NoisyLoss(int n) => Enumerable.Range(1, n).Select(t => t <= 30 ? 1.0 / t : 1.0 / 30 + 0.003 * Math.Sin(t) + (t > 150 ? 0.0005 * (t - 150) : 0)).ToArray();

    public static readonly TorchSharpCase[] All =
    [
        // The PyTorch fixture's configurations that TorchSharp can express.
        new("constant_identity", "sgd", 20, o => TS.LambdaLR(o, e => 1.0), Engine(() => new Constant()), Fixture: "constant_identity"),
        new("lambda_per_group", "sgd", 120,
            o => new TSImpl.LambdaLR(o, [e => 1.0 / (1.0 + 0.05 * e), e => Math.Pow(0.95, e) * (1 + 0.1 * Math.Sin(e))]),
            Engine(() => ScheduleCases.PyTorch["lambda_per_group"]()), Fixture: "lambda_per_group"),
        new("multiplicative", "sgd", 120, o => TS.MultiplicativeLR(o, e => e % 3 != 0 ? 0.97 : 1.01),
            Engine(() => new MultiplicativeLR(e => e % 3 != 0 ? 0.97 : 1.01)), Fixture: "multiplicative"),
        new("step", "sgd", 300, o => TS.StepLR(o, 30, 0.1), Engine(() => new StepLR(30, 0.1)), Fixture: "step"),
        new("step_half_every_7", "sgd", 120, o => TS.StepLR(o, 7, 0.5), Engine(() => new StepLR(7, 0.5)), Fixture: "step_half_every_7"),
        new("multistep_resnet", "sgd", 120, o => TS.MultiStepLR(o, [30, 60, 90], 0.1), Engine(() => new MultiStepLR([30, 60, 90], 0.1)), Fixture: "multistep_resnet"),
        new("constant_warmup", "sgd", 80, o => TS.ConstantLR(o, 0.25, 40), Engine(() => new ConstantLR(0.25, 40)), Fixture: "constant_warmup"),
        new("linear_warmup", "sgd", 100, o => TS.LinearLR(o, 0.1, 1.0, 50), Engine(() => new LinearLR(0.1, 1.0, 50)), Fixture: "linear_warmup"),
        new("linear_decay_to_zero", "sgd", 260, o => TS.LinearLR(o, 1.0, 0.0, 200), Engine(() => new LinearLR(1.0, 0.0, 200)), Fixture: "linear_decay_to_zero"),
        new("linear_decay_partial", "sgd", 200, o => TS.LinearLR(o, 0.9, 0.2, 150), Engine(() => new LinearLR(0.9, 0.2, 150)), Fixture: "linear_decay_partial"),
        new("exponential", "sgd", 300, o => TS.ExponentialLR(o, 0.98), Engine(() => new ExponentialLR(0.98)), Fixture: "exponential"),
        new("polynomial_square", "sgd", 260, o => TS.PolynomialLR(o, 200, 2.0), Engine(() => new PolynomialLR(200, 2.0)), Fixture: "polynomial_square"),
        new("polynomial_linear", "sgd", 150, o => TS.PolynomialLR(o, 100, 1.0), Engine(() => new PolynomialLR(100, 1.0)), Fixture: "polynomial_linear"),
        new("polynomial_sqrt", "sgd", 150, o => TS.PolynomialLR(o, 90, 0.5), Engine(() => new PolynomialLR(90, 0.5)), Fixture: "polynomial_sqrt"),
        new("cosine_eta_min", "sgd", 300, o => TS.CosineAnnealingLR(o, 50, 1e-3), Engine(() => new CosineAnnealingLR(50, etaMin: 1e-3)), Fixture: "cosine_eta_min"),
        new("cosine", "sgd", 250, o => TS.CosineAnnealingLR(o, 100), Engine(() => new CosineAnnealingLR(100)), Fixture: "cosine"),
        new("cosine_t1", "sgd", 20, o => TS.CosineAnnealingLR(o, 1, 1e-3), Engine(() => new CosineAnnealingLR(1, etaMin: 1e-3)), Fixture: "cosine_t1"),
        new("onecycle_cos_sgd", "sgd", 300, o => TS.OneCycleLR(o, 0.5, total_steps: 300), Engine(() => new OneCycleLR(0.5, 300)), Momentum: true, Fixture: "onecycle_cos_sgd"),
        new("onecycle_linear_three_phase_adam", "adam", 240,
            o => TS.OneCycleLR(o, 0.02, total_steps: 240, pct_start: 0.25, anneal_strategy: TSImpl.OneCycleLR.AnnealStrategy.Linear, three_phase: true,
                div_factor: 10, final_div_factor: 100, base_momentum: 0.8, max_momentum: 0.9),
            Engine(() => ScheduleCases.PyTorch["onecycle_linear_three_phase_adam"]()), Momentum: true, Fixture: "onecycle_linear_three_phase_adam"),
        new("onecycle_cos_three_phase_per_group", "sgd", 200,
            o => TS.OneCycleLR(o, [0.4, 0.2], epochs: 8, steps_per_epoch: 25, pct_start: 0.4, three_phase: true, cycle_momentum: false),
            Engine(() => ScheduleCases.PyTorch["onecycle_cos_three_phase_per_group"]()), Fixture: "onecycle_cos_three_phase_per_group"),
        new("cyclic_triangular", "sgd", 300, o => TS.CyclicLR(o, 0.01, 0.1, 20, 30), Engine(() => new CyclicLR(0.01, 0.1, 20, 30)), Momentum: true, Fixture: "cyclic_triangular"),
        new("cyclic_triangular2", "sgd", 300,
            o => TS.CyclicLR(o, 0.001, 0.1, 15, mode: TSImpl.CyclicLR.Mode.Triangular2, base_momentum: 0.85, max_momentum: 0.95),
            Engine(() => new CyclicLR(0.001, 0.1, 15, mode: CyclicMode.Triangular2, baseMomentum: 0.85, maxMomentum: 0.95)), Momentum: true, Fixture: "cyclic_triangular2"),
        new("cyclic_exp_range", "sgd", 300, o => TS.CyclicLR(o, 0.01, 0.2, 25, mode: TSImpl.CyclicLR.Mode.ExpRange, gamma: 0.995),
            Engine(() => new CyclicLR(0.01, 0.2, 25, mode: CyclicMode.ExpRange, gamma: 0.995)), Momentum: true, Fixture: "cyclic_exp_range"),
        new("cyclic_per_group_no_momentum", "sgd", 200,
            o => TS.CyclicLR(o, [0.01, 0.005], [0.1, 0.05], 12, 8, cycle_momentum: false),
            Engine(() => ScheduleCases.PyTorch["cyclic_per_group_no_momentum"]()), Fixture: "cyclic_per_group_no_momentum"),
        new("sequential_warmup_cosine", "sgd", 200,
            o => TS.SequentialLR(o, [TS.LinearLR(o, 0.1, 1.0, 20), TS.CosineAnnealingLR(o, 180, 1e-4)], [20]),
            Engine(() => ScheduleCases.PyTorch["sequential_warmup_cosine"]()), Fixture: "sequential_warmup_cosine"),
        new("sequential_three", "sgd", 150,
            o => TS.SequentialLR(o, [TS.ConstantLR(o, 0.5, 10), TS.ExponentialLR(o, 0.95), TS.StepLR(o, 20, 0.5)], [15, 60]),
            Engine(() => ScheduleCases.PyTorch["sequential_three"]()), Fixture: "sequential_three"),
        new("sequential_warmup_multiplicative", "sgd", 120,
            o => TS.SequentialLR(o, [TS.LinearLR(o, 0.25, 1.0, 10), TS.MultiplicativeLR(o, e => 0.98)], [12]),
            Engine(() => ScheduleCases.PyTorch["sequential_warmup_multiplicative"]()), Fixture: "sequential_warmup_multiplicative"),
        new("sequential_multistep_polynomial", "sgd", 160,
            o => TS.SequentialLR(o, [TS.MultiStepLR(o, [5, 15], 0.5), TS.PolynomialLR(o, 100, 1.5)], [30]),
            Engine(() => ScheduleCases.PyTorch["sequential_multistep_polynomial"]()), Fixture: "sequential_multistep_polynomial"),
        new("chained_constant_exponential", "sgd", 120,
            o => TS.ChainedLR([TS.ConstantLR(o, 0.1, 20), TS.ExponentialLR(o, 0.97)]),
            Engine(() => ScheduleCases.PyTorch["chained_constant_exponential"]()), Fixture: "chained_constant_exponential"),
        new("chained_linear_cosine", "sgd", 200,
            o => TS.ChainedLR([TS.LinearLR(o, 0.25, 1.0, 30), TS.CosineAnnealingLR(o, 60)]),
            Engine(() => ScheduleCases.PyTorch["chained_linear_cosine"]()), Fixture: "chained_linear_cosine"),
        new("chained_linear_cosine_eta_min", "sgd", 200,
            o => TS.ChainedLR([TS.LinearLR(o, 0.25, 1.0, 30), TS.CosineAnnealingLR(o, 60, 1e-3)]),
            Engine(() => ScheduleCases.PyTorch["chained_linear_cosine_eta_min"]()), Fixture: "chained_linear_cosine_eta_min"),
        new("chained_step_multistep_polynomial", "sgd", 150,
            o => TS.ChainedLR([TS.StepLR(o, 25, 0.8), TS.MultiStepLR(o, [40, 90], 0.5), TS.PolynomialLR(o, 120, 1.0)]),
            Engine(() => ScheduleCases.PyTorch["chained_step_multistep_polynomial"]()), Fixture: "chained_step_multistep_polynomial"),
        new("plateau_min_rel", "sgd", 120,
            o => TS.ReduceLROnPlateau(o, "min", factor: 0.5, patience: 3, threshold: 1e-2, cooldown: 2, min_lr: [1e-3, 1e-4]),
            o => ScheduleCases.Plateaus["plateau_min_rel"](o), Fixture: "plateau_min_rel", Metrics: Metrics("plateau_min_rel")),
        new("plateau_min_abs", "sgd", 120,
            o => TS.ReduceLROnPlateau(o, "min", factor: 0.2, patience: 5, threshold: 1e-3, threshold_mode: "abs", min_lr: [1e-7]),
            o => ScheduleCases.Plateaus["plateau_min_abs"](o), Fixture: "plateau_min_abs", Metrics: Metrics("plateau_min_abs")),
        new("plateau_max_abs_eps", "sgd", 150,
            o => TS.ReduceLROnPlateau(o, "max", factor: 0.3, patience: 2, threshold: 0.005, threshold_mode: "abs", eps: 1e-3),
            o => ScheduleCases.Plateaus["plateau_max_abs_eps"](o), Fixture: "plateau_max_abs_eps", Metrics: Metrics("plateau_max_abs_eps")),
        new("plateau_max_rel_defaults", "sgd", 150, o => TS.ReduceLROnPlateau(o, "max", patience: 4),
            o => ScheduleCases.Plateaus["plateau_max_rel_defaults"](o), Fixture: "plateau_max_rel_defaults", Metrics: Metrics("plateau_max_rel_defaults")),

        // Beyond the fixture: other built-in optimizers and longer runs.
        new("step_adamw_400", "adamw", 400, o => TS.StepLR(o, 45, 0.7), Engine(() => new StepLR(45, 0.7))),
        new("cosine_rmsprop_400", "rmsprop", 400, o => TS.CosineAnnealingLR(o, 130, 2e-3), Engine(() => new CosineAnnealingLR(130, etaMin: 2e-3))),
        new("exponential_adam_400", "adam", 400, o => TS.ExponentialLR(o, 0.991), Engine(() => new ExponentialLR(0.991))),
        new("linear_then_cosine_adam_400", "adam", 400,
            o => TS.SequentialLR(o, [TS.LinearLR(o, 0.01, 1.0, 40), TS.CosineAnnealingLR(o, 360)], [40]),
            Engine(() => new CosineAnnealingLR(360).WithWarmup(40, 0.01))),
        new("polynomial_cube_adagrad_300", "adagrad", 300, o => TS.PolynomialLR(o, 250, 3.0), Engine(() => new PolynomialLR(250, 3.0))),
        new("onecycle_cos_adamw_400", "adamw", 400, o => TS.OneCycleLR(o, 0.3, total_steps: 400), Engine(() => new OneCycleLR(0.3, 400)), Momentum: true),
        new("onecycle_rmsprop_400", "rmsprop", 400, o => TS.OneCycleLR(o, 0.01, total_steps: 400, pct_start: 0.2), Engine(() => new OneCycleLR(0.01, 400, pctStart: 0.2)), Momentum: true),
        new("onecycle_no_momentum_adagrad_400", "adagrad", 400, o => TS.OneCycleLR(o, 0.3, total_steps: 400, cycle_momentum: false),
            Engine(() => new OneCycleLR(0.3, 400, cycleMomentum: false))),
        new("cyclic_triangular_rmsprop_400", "rmsprop", 400, o => TS.CyclicLR(o, 0.001, 0.01, 30, 50), Engine(() => new CyclicLR(0.001, 0.01, 30, 50)), Momentum: true),
        new("cyclic_no_momentum_adam_400", "adam", 400, o => TS.CyclicLR(o, 0.001, 0.01, 30, 50, mode: TSImpl.CyclicLR.Mode.Triangular2, cycle_momentum: false),
            Engine(() => new CyclicLR(0.001, 0.01, 30, 50, mode: CyclicMode.Triangular2, cycleMomentum: false))),
        new("plateau_adam_300", "adam", 300, o => TS.ReduceLROnPlateau(o, "min", factor: 0.5, patience: 5, cooldown: 3),
            o => new ReduceLROnPlateau(o, PlateauMode.Min, factor: 0.5, patience: 5, cooldown: 3), Metrics: NoisyLoss(300)),
    ];

    /// <summary>Runs a case with TorchSharp's scheduler or Engine's, stepping the optimizer and
    /// then the scheduler, as the fixture script and a training loop do.</summary>
    public static Trace Run(TorchSharpCase c, bool torchSharp, out string schedulerType)
    {
        using var o = new TwoGroups(c.Optimizer);
        TS.LRScheduler? ts = null;
        LRScheduler? engine = null;
        if (torchSharp) ts = c.TorchSharp(o.Optimizer);
        else engine = c.Engine(o.Optimizer);
        schedulerType = ts?.GetType().Name ?? engine!.GetType().Name;
        var lr = new double[c.Steps + 1][];
        var momentum = new double?[c.Steps + 1][];
        lr[0] = o.Lrs;
        momentum[0] = o.Momenta;
        for (int t = 1; t <= c.Steps; t++)
        {
            o.TrainStep(t);
            if (c.Metrics is { } m)
            {
                if (ts is not null) ts.step(m[t - 1]);
                else ((ReduceLROnPlateau)engine!).Step(m[t - 1]);
            }
            else if (ts is not null) ts.step();
            else ((Scheduler)engine!).Step();
            lr[t] = o.Lrs;
            momentum[t] = o.Momenta;
        }
        return new Trace(lr, momentum, o.ParameterValues);
    }
}
