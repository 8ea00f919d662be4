using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>Hyperparameters outside their domain are refused when the optimizer is built and
/// when a group is added, with an ArgumentOutOfRangeException naming the hyperparameter (the
/// checks of PyTorch's constructors: negative lr, betas outside [0, 1), negative eps...).</summary>
public class HyperparameterValidationTests
{
    static IEnumerable<TestCaseData> Cases()
    {
        // name, factory with one bad value, the parameter the exception must name
        var cases = new (string, Func<Tensor[], Optimizer>, string)[]
        {
            ("rmsprop_negative_lr", p => new RmsProp(p, lr: -1e-2), "LearningRate"),
            ("rmsprop_nan_lr", p => new RmsProp(p, lr: double.NaN), "LearningRate"),
            ("rmsprop_negative_alpha", p => new RmsProp(p, alpha: -0.1), "alpha"),
            ("rmsprop_alpha_above_one", p => new RmsProp(p, alpha: 1.5), "alpha"),
            ("rmsprop_negative_eps", p => new RmsProp(p, eps: -1e-8), "eps"),
            ("rmsprop_negative_momentum", p => new RmsProp(p, momentum: -0.9), "momentum"),
            ("rmsprop_negative_weight_decay", p => new RmsProp(p, weightDecay: -1e-3), "WeightDecay"),
            ("adagrad_negative_lr", p => new Adagrad(p, lr: -0.1), "LearningRate"),
            ("adagrad_negative_lr_decay", p => new Adagrad(p, lrDecay: -1e-3), "lr_decay"),
            ("adagrad_negative_initial_accumulator", p => new Adagrad(p, initialAccumulatorValue: -0.1), "initial_accumulator_value"),
            ("adagrad_negative_eps", p => new Adagrad(p, eps: -1e-10), "eps"),
            ("adagrad_infinite_weight_decay", p => new Adagrad(p, weightDecay: double.PositiveInfinity), "WeightDecay"),
            ("adadelta_negative_lr", p => new Adadelta(p, lr: -1), "LearningRate"),
            ("adadelta_negative_rho", p => new Adadelta(p, rho: -0.1), "rho"),
            ("adadelta_rho_above_one", p => new Adadelta(p, rho: 1.1), "rho"),
            ("adadelta_negative_eps", p => new Adadelta(p, eps: -1e-6), "eps"),
            ("adadelta_negative_weight_decay", p => new Adadelta(p, weightDecay: -1), "WeightDecay"),
            ("adamax_negative_lr", p => new Adamax(p, lr: -2e-3), "LearningRate"),
            ("adamax_beta1_one", p => new Adamax(p, beta1: 1.0), "beta1"),
            ("adamax_negative_beta2", p => new Adamax(p, beta2: -0.1), "beta2"),
            ("adamax_negative_eps", p => new Adamax(p, eps: -1e-8), "eps"),
            ("adamax_negative_weight_decay", p => new Adamax(p, weightDecay: -1e-3), "WeightDecay"),
            ("nadam_negative_lr", p => new NAdam(p, lr: -2e-3), "LearningRate"),
            ("nadam_negative_beta1", p => new NAdam(p, beta1: -0.9), "beta1"),
            ("nadam_beta2_one", p => new NAdam(p, beta2: 1.0), "beta2"),
            ("nadam_negative_eps", p => new NAdam(p, eps: -1e-8), "eps"),
            ("nadam_negative_momentum_decay", p => new NAdam(p, momentumDecay: -4e-3), "momentum_decay"),
            ("nadam_negative_weight_decay", p => new NAdam(p, weightDecay: -1e-3), "WeightDecay"),
            ("radam_negative_lr", p => new RAdam(p, lr: -1e-3), "LearningRate"),
            ("radam_beta1_above_one", p => new RAdam(p, beta1: 1.5), "beta1"),
            ("radam_nan_beta2", p => new RAdam(p, beta2: double.NaN), "beta2"),
            ("radam_negative_eps", p => new RAdam(p, eps: -1e-8), "eps"),
            ("radam_negative_weight_decay", p => new RAdam(p, weightDecay: -1e-3), "WeightDecay"),
        };
        foreach (var (name, make, parameter) in cases)
            yield return new TestCaseData(make, parameter).SetName($"{name}_throws_naming_{parameter}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Bad_hyperparameter_throws(Func<Tensor[], Optimizer> make, string parameter)
    {
        using var p = Torch.Zeros([3], ScalarType.Float32, Device.CPU, requiresGrad: true);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => make([p]).Dispose());
        Assert.That(e!.ParamName, Is.EqualTo(parameter));
    }

    static IEnumerable<TestCaseData> GroupCases()
    {
        var cases = new (string, Func<Tensor[], Optimizer>, Action<OptimizerOptions>, string)[]
        {
            ("rmsprop", p => new RmsProp(p), o => ((RmsPropOptions)o).Alpha = 2, "alpha"),
            ("adagrad", p => new Adagrad(p), o => ((AdagradOptions)o).LrDecay = -1, "lr_decay"),
            ("adadelta", p => new Adadelta(p), o => ((AdadeltaOptions)o).Rho = -1, "rho"),
            ("adamax", p => new Adamax(p), o => ((AdamaxOptions)o).Beta2 = 1, "beta2"),
            ("nadam", p => new NAdam(p), o => ((NAdamOptions)o).MomentumDecay = -1, "momentum_decay"),
            ("radam", p => new RAdam(p), o => o.Momentum = 1, "beta1"),
        };
        foreach (var (name, make, configure, parameter) in cases)
            yield return new TestCaseData(make, configure, parameter).SetName($"{name}_add_param_group_with_bad_{parameter}_throws");
    }

    [TestCaseSource(nameof(GroupCases))]
    public void Bad_group_hyperparameter_throws(Func<Tensor[], Optimizer> make, Action<OptimizerOptions> configure, string parameter)
    {
        using var a = Torch.Zeros([3], ScalarType.Float32, Device.CPU, requiresGrad: true);
        using var b = Torch.Zeros([2], ScalarType.Float32, Device.CPU, requiresGrad: true);
        using var optimizer = make([a]);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => optimizer.AddParamGroup(new ParamGroupSpec([b], configure)));
        Assert.That(e!.ParamName, Is.EqualTo(parameter));
        Assert.That(optimizer.ParamGroups, Has.Count.EqualTo(1));
    }

    [Test]
    public void Boundary_values_are_accepted()
    {
        using var p = Torch.Zeros([3], ScalarType.Float32, Device.CPU, requiresGrad: true);
        Assert.DoesNotThrow(() =>
        {
            new RmsProp([p], lr: 0, alpha: 0, eps: 0, momentum: 0).Dispose();
            new RmsProp([p], alpha: 1).Dispose();
            new Adagrad([p], lr: 0, lrDecay: 0, initialAccumulatorValue: 0, eps: 0).Dispose();
            new Adadelta([p], rho: 0, eps: 0).Dispose();
            new Adadelta([p], rho: 1).Dispose();
            new Adamax([p], beta1: 0, beta2: 0, eps: 0).Dispose();
            new NAdam([p], beta1: 0, beta2: 0, momentumDecay: 0).Dispose();
            new RAdam([p], beta1: 0, beta2: 0, eps: 0).Dispose();
        });
    }
}
