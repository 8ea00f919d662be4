using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>Hyperparameters outside their domain are refused when the optimizer is built and
/// when a group is added, with an ArgumentException (ArgumentOutOfRangeException where a single
/// value is out of range) naming the hyperparameter as PyTorch names it — the checks of
/// PyTorch's constructors: negative lr, betas outside [0, 1), negative eps...</summary>
public class HyperparameterValidationTests
{
    static IEnumerable<TestCaseData> Cases()
    {
        // name, factory with one bad value, the parameter the exception must name
        var cases = new (string, Func<Parameter[], Optimizer>, string)[]
        {
            ("sgd_negative_lr", p => new Sgd(p, lr: -0.1), "lr"),
            ("sgd_negative_momentum", p => new Sgd(p, momentum: -0.9), "momentum"),
            ("sgd_negative_dampening", p => new Sgd(p, momentum: 0.9, dampening: -0.1), "dampening"),
            ("sgd_nan_weight_decay", p => new Sgd(p, weightDecay: double.NaN), "weight_decay"),
            ("sgd_nesterov_without_momentum", p => new Sgd(p, nesterov: true), "nesterov"),
            ("sgd_nesterov_with_dampening", p => new Sgd(p, momentum: 0.9, dampening: 0.1, nesterov: true), "nesterov"),
            ("sgd_classic_negative_momentum", p => new SgdClassicMomentum(p, momentum: -0.9), "momentum"),
            ("sgd_classic_infinite_weight_decay", p => new SgdClassicMomentum(p, weightDecay: double.NegativeInfinity), "weight_decay"),
            ("sgd_classic_nesterov_without_momentum", p => new SgdClassicMomentum(p, momentum: 0, nesterov: true), "nesterov"),
            ("rmsprop_negative_lr", p => new RmsProp(p, lr: -1e-2), "lr"),
            ("rmsprop_nan_lr", p => new RmsProp(p, lr: double.NaN), "lr"),
            ("rmsprop_negative_alpha", p => new RmsProp(p, alpha: -0.1), "alpha"),
            ("rmsprop_alpha_above_one", p => new RmsProp(p, alpha: 1.5), "alpha"),
            ("rmsprop_negative_eps", p => new RmsProp(p, eps: -1e-8), "eps"),
            ("rmsprop_negative_momentum", p => new RmsProp(p, momentum: -0.9), "momentum"),
            ("rmsprop_negative_weight_decay", p => new RmsProp(p, weightDecay: -1e-3), "weight_decay"),
            ("adagrad_negative_lr", p => new Adagrad(p, lr: -0.1), "lr"),
            ("adagrad_negative_lr_decay", p => new Adagrad(p, lrDecay: -1e-3), "lr_decay"),
            ("adagrad_negative_initial_accumulator", p => new Adagrad(p, initialAccumulatorValue: -0.1), "initial_accumulator_value"),
            ("adagrad_negative_eps", p => new Adagrad(p, eps: -1e-10), "eps"),
            ("adagrad_infinite_weight_decay", p => new Adagrad(p, weightDecay: double.PositiveInfinity), "weight_decay"),
            ("adadelta_negative_lr", p => new Adadelta(p, lr: -1), "lr"),
            ("adadelta_negative_rho", p => new Adadelta(p, rho: -0.1), "rho"),
            ("adadelta_rho_above_one", p => new Adadelta(p, rho: 1.1), "rho"),
            ("adadelta_negative_eps", p => new Adadelta(p, eps: -1e-6), "eps"),
            ("adadelta_negative_weight_decay", p => new Adadelta(p, weightDecay: -1), "weight_decay"),
            ("adamax_negative_lr", p => new Adamax(p, lr: -2e-3), "lr"),
            ("adamax_beta1_one", p => new Adamax(p, beta1: 1.0), "beta1"),
            ("adamax_negative_beta2", p => new Adamax(p, beta2: -0.1), "beta2"),
            ("adamax_negative_eps", p => new Adamax(p, eps: -1e-8), "eps"),
            ("adamax_negative_weight_decay", p => new Adamax(p, weightDecay: -1e-3), "weight_decay"),
            ("asgd_negative_lr", p => new Asgd(p, lr: -1e-2), "lr"),
            ("asgd_negative_lambd", p => new Asgd(p, lambd: -1e-4), "lambd"),
            ("asgd_nan_alpha", p => new Asgd(p, alpha: double.NaN), "alpha"),
            ("asgd_negative_t0", p => new Asgd(p, t0: -1), "t0"),
            ("asgd_negative_weight_decay", p => new Asgd(p, weightDecay: -1e-3), "weight_decay"),
            ("rprop_negative_lr", p => new Rprop(p, lr: -1e-2), "lr"),
            ("rprop_etaminus_one", p => new Rprop(p, etaMinus: 1.0), "etaminus"),
            ("rprop_etaminus_zero", p => new Rprop(p, etaMinus: 0), "etaminus"),
            ("rprop_etaplus_one", p => new Rprop(p, etaPlus: 1.0), "etaplus"),
            ("rprop_negative_min_step", p => new Rprop(p, minStep: -1e-6), "min_step"),
            ("rprop_max_step_below_min_step", p => new Rprop(p, minStep: 1e-2, maxStep: 1e-3), "max_step"),
            ("adam_beta1_one", p => new Adam(p, beta1: 1.0), "beta1"),
            ("adam_negative_beta1", p => new Adam(p, beta1: -0.1), "beta1"),
            ("adamw_beta2_one", p => new AdamW(p, beta2: 1.0), "beta2"),
            ("adamw_negative_eps", p => new AdamW(p, eps: -1e-8), "eps"),
        };
        foreach (var (name, make, parameter) in cases)
            yield return new TestCaseData(make, parameter).SetName($"{name}_throws_naming_{parameter}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Bad_hyperparameter_throws(Func<Parameter[], Optimizer> make, string parameter)
    {
        using var p = new Parameter(zeros(3));
        var e = Assert.Throws(Is.InstanceOf<ArgumentException>(), () => make([p]).Dispose()) as ArgumentException;
        Assert.That(e!.ParamName, Is.EqualTo(parameter));
    }

    static IEnumerable<TestCaseData> GroupCases()
    {
        var cases = new (string, Func<Parameter[], Optimizer>, Action<OptimizerOptions>, string)[]
        {
            ("sgd", p => new Sgd(p), o => o.Momentum = -1, "momentum"),
            ("rmsprop", p => new RmsProp(p), o => ((RmsPropOptions)o).Alpha = 2, "alpha"),
            ("adagrad", p => new Adagrad(p), o => ((AdagradOptions)o).LrDecay = -1, "lr_decay"),
            ("adadelta", p => new Adadelta(p), o => ((AdadeltaOptions)o).Rho = -1, "rho"),
            ("adamax", p => new Adamax(p), o => ((AdamaxOptions)o).Beta2 = 1, "beta2"),
            ("asgd", p => new Asgd(p), o => ((AsgdOptions)o).Lambd = -1, "lambd"),
            ("rprop", p => new Rprop(p), o => ((RpropOptions)o).EtaPlus = 0.5, "etaplus"),
            ("rprop_weight_decay", p => new Rprop(p), o => o.WeightDecay = 0.1, "weight_decay"),
            ("adam", p => new Adam(p), o => o.Lr = double.NaN, "lr"),
        };
        foreach (var (name, make, configure, parameter) in cases)
            yield return new TestCaseData(make, configure, parameter).SetName($"{name}_add_param_group_with_bad_{parameter}_throws");
    }

    [TestCaseSource(nameof(GroupCases))]
    public void Bad_group_hyperparameter_throws(Func<Parameter[], Optimizer> make, Action<OptimizerOptions> configure, string parameter)
    {
        using var a = new Parameter(zeros(3));
        using var b = new Parameter(zeros(2));
        using var optimizer = make([a]);
        var e = Assert.Throws(Is.InstanceOf<ArgumentException>(), () => optimizer.AddParamGroup(new ParamGroupSpec([b], configure))) as ArgumentException;
        Assert.That(e!.ParamName, Is.EqualTo(parameter));
        Assert.That(optimizer.Groups, Has.Count.EqualTo(1));
    }

    [Test]
    public void Boundary_values_are_accepted()
    {
        using var p = new Parameter(zeros(3));
        Assert.DoesNotThrow(() =>
        {
            new Sgd([p], lr: 0, momentum: 0, dampening: 0).Dispose();
            new RmsProp([p], lr: 0, alpha: 0, eps: 0, momentum: 0).Dispose();
            new RmsProp([p], alpha: 1).Dispose();
            new Adagrad([p], lr: 0, lrDecay: 0, initialAccumulatorValue: 0, eps: 0).Dispose();
            new Adadelta([p], rho: 0, eps: 0).Dispose();
            new Adadelta([p], rho: 1).Dispose();
            new Adamax([p], beta1: 0, beta2: 0, eps: 0).Dispose();
            new Asgd([p], lambd: 0, alpha: 0, t0: 0).Dispose();
            new Rprop([p], etaMinus: 0.01, etaPlus: 1.01, minStep: 0, maxStep: 0).Dispose();
        });
    }
}
