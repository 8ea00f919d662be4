using Engine.Optim;
using TS = TorchSharp.Modules;

namespace Engine.Tests.Optim;

/// <summary>The optimizer base: groups, add_param_group (Engine's and TorchSharp's), bad
/// parameters, parameters without gradients on every path, zeroing, and the flat path when a
/// module's zero_grad sets the gradients to none.</summary>
public class OptimizerBaseTests
{
    static Parameter Leaf(params long[] shape) => new(randn(shape));

    [Test]
    public void A_parameter_in_two_groups_is_an_error_naming_it()
    {
        var a = Leaf(2, 3);
        using var opt = new Sgd([a], lr: 0.1);
        var ex = Assert.Throws<ArgumentException>(() => opt.AddParamGroup(new ParamGroupSpec([a])))!;
        Assert.That(ex.Message, Does.Contain("more than one group").And.Contain("[2, 3]"));
        ex = Assert.Throws<ArgumentException>(() => opt.add_param_group(new TS.ParamGroup { Parameters = [a] }))!;
        Assert.That(ex.Message, Does.Contain("more than one group"));
        ex = Assert.Throws<ArgumentException>(() => new Sgd([a, a], lr: 0.1))!;
        Assert.That(ex.Message, Does.Contain("twice"));
    }

    [Test]
    public void Integer_disposed_null_and_missing_parameters_are_rejected()
    {
        var a = Leaf(3);
        using var scope = NewDisposeScope();
        Assert.That(Assert.Throws<ArgumentException>(() => new Adam([new Parameter(zeros(3, ScalarType.Int64), requires_grad: false)]))!.Message, Does.Contain("floating-point").And.Contain("Int64"));
        Assert.That(Assert.Throws<ArgumentException>(() => new Adam(Array.Empty<Parameter>()))!.Message, Does.Contain("empty"));
        var gone = Leaf(3);
        gone.Dispose();
        Assert.That(Assert.Throws<ArgumentException>(() => new Sgd([gone]))!.Message, Does.Contain("disposed"));
        Assert.Throws<ArgumentException>(() => new Sgd([a, null!]));
    }

    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(-1e-3)]
    public void A_non_finite_or_negative_learning_rate_is_an_error_naming_lr(double lr)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([Leaf(3)], lr: lr))!;
        Assert.That(ex.ParamName, Is.EqualTo("lr"));
    }

    [Test]
    public void New_groups_take_the_defaults_changed_by_their_configuration()
    {
        using var opt = new Adam([Leaf(3)], lr: 1e-3, weightDecay: 0.5);
        var g = opt.AddParamGroup(new ParamGroupSpec([Leaf(3)], o => o.Lr = 1e-4));
        var options = (AdamOptions)g.Options;
        Assert.That(options.Lr, Is.EqualTo(1e-4));
        Assert.That(options.InitialLearningRate, Is.EqualTo(1e-4));
        Assert.That(options.WeightDecay, Is.EqualTo(0.5));
        Assert.That(opt.Groups[0].Options.Lr, Is.EqualTo(1e-3));
        Assert.That(opt.ParamGroups.Count(), Is.EqualTo(2));
    }

    [Test]
    public void TorchSharp_add_param_group_takes_the_defaults_or_the_optimizers_own_options()
    {
        var a = Leaf(3);
        var b = Leaf(3);
        var c = Leaf(3);
        using var opt = new Sgd([a], lr: 0.1, momentum: 0.9);
        opt.add_param_group(new TS.ParamGroup { Parameters = [b] });
        opt.add_param_group(new TS.ParamGroup { Parameters = [c], Options = new SgdOptions { Lr = 0.01 } });
        Assert.That(opt.Groups.Select(g => g.Options.Lr), Is.EqualTo(new[] { 0.1, 0.1, 0.01 }));
        Assert.That(opt.Groups[1].Momentum, Is.EqualTo(0.9));
        var ex = Assert.Throws<ArgumentException>(() => opt.add_param_group(new TS.ParamGroup { Parameters = [Leaf(2)], Options = new TS.SGD.Options { LearningRate = 0.1 } }))!;
        Assert.That(ex.Message, Does.Contain("SgdOptions"));
        Assert.Throws<ArgumentOutOfRangeException>(() => opt.add_param_group(new TS.ParamGroup { Parameters = [Leaf(2)], Options = new SgdOptions { Lr = -1 } }));

        // The added groups step like the first: θ ← θ − η·g with g = 1 at the first step.
        var before = new[] { a, b, c }.Select(p => p.detach().clone()).ToArray();
        foreach (var p in new[] { a, b, c }) p.sum().backward();
        opt.step();
        double[] lrs = [0.1, 0.1, 0.01];
        var now = new[] { a, b, c };
        for (int i = 0; i < 3; i++)
            Assert.That(before[i].sub(now[i]).allclose(full_like(now[i], lrs[i])), Is.True, $"group {i}");
    }

    static IEnumerable<TestCaseData> SkipCases()
    {
        var optimizers = new (string, Func<Parameter[], Optimizer>)[]
        {
            ("sgd_momentum_wd", p => new Sgd(p, lr: 0.1, momentum: 0.9, weightDecay: 0.1)),
            ("sgd_classic_momentum", p => new SgdClassicMomentum(p, lr: 0.1, weightDecay: 0.1)),
            ("rmsprop_centered_momentum", p => new RmsProp(p, momentum: 0.5, centered: true, weightDecay: 0.1)),
            ("adagrad", p => new Adagrad(p, weightDecay: 0.1)),
            ("adadelta", p => new Adadelta(p, weightDecay: 0.1)),
            ("adamax", p => new Adamax(p, weightDecay: 0.1)),
            ("asgd", p => new Asgd(p, weightDecay: 0.1)),
            ("rprop", p => new Rprop(p)),
            ("adam", p => new Adam(p, weightDecay: 0.1)),
            ("adamw", p => new AdamW(p)),
        };
        foreach (var impl in new[] { Implementation.Readable, Implementation.Fused, Implementation.Flat })
            foreach (var (name, make) in optimizers)
                yield return new TestCaseData(impl, make).SetName($"{name}_{impl}_skips_a_parameter_without_gradient");
    }

    /// <summary>A parameter whose gradient is none is left alone (no weight decay, no momentum,
    /// no step count), as PyTorch does: at the first step, and at a later step after its
    /// gradient was set to none.</summary>
    [TestCaseSource(nameof(SkipCases))]
    public void A_parameter_without_gradient_is_skipped_as_pytorch_does(Implementation impl, Func<Parameter[], Optimizer> make)
    {
        var used = Leaf(4);
        var unused = Leaf(4);
        var later = Leaf(4);
        using var opt = make([used, unused, later]);
        opt.Implementation = impl;
        var unusedBefore = unused.detach().clone();
        (used * used).sum().backward();
        (later * later).sum().backward();
        opt.step();
        Assert.That(OptimizerHarness.Identical(unused, unusedBefore), Is.True);
        Assert.That(opt.StateOf(unused).Step, Is.Zero);
        Assert.That(opt.StateOf(unused).Buffers, Is.Empty);
        Assert.That(opt.StateOf(used).Step, Is.EqualTo(1));

        var laterBefore = later.detach().clone();
        later.grad = null;
        using (var g = used.grad) g!.zero_();
        (used * used).sum().backward();
        opt.step();
        Assert.That(OptimizerHarness.Identical(later, laterBefore), Is.True, "a gradient set to none at a later step");
        Assert.That(opt.StateOf(later).Step, Is.EqualTo(1));
        Assert.That(opt.StateOf(used).Step, Is.EqualTo(2));
    }

    [Test]
    public void Weight_decay_split_leaves_biases_and_norm_parameters_out()
    {
        using var model = OptimizerHarness.Make(ScalarType.Float32);
        using var opt = new AdamW(ParamGroupSpec.WeightDecaySplit(model, 0.05));
        Assert.That(opt.Groups.Select(g => g.Options.WeightDecay), Is.EqualTo(new[] { 0.05, 0.0 }));
        Assert.That(opt.Groups[0].ParameterList.Select(p => p.dim()), Is.All.EqualTo(2));
        Assert.That(opt.Groups[1].ParameterList.Select(p => p.dim()), Is.All.EqualTo(1));
        Assert.That(opt.Groups.Sum(g => g.ParameterList.Count), Is.EqualTo(4));
    }

    [TestCase(Implementation.Readable)]
    [TestCase(Implementation.Flat)]
    public void Zero_grad_sets_to_none_by_default_or_to_zeros(Implementation impl)
    {
        var a = Leaf(3);
        using var opt = new Sgd([a], lr: 0.1) { Implementation = impl };
        a.sum().backward();
        opt.step();
        a.sum().backward();
        opt.zero_grad(setToNone: false);
        using (var g = a.grad) Assert.That(g!.abs().sum().ToDouble(), Is.Zero);
        opt.zero_grad();
        using var after = a.grad;
        if (impl == Implementation.Flat)
        {
            // Gradients that are views of the flat buffer are zeroed in place, so they stay views.
            Assert.That(after, Is.Not.Null);
            Assert.That(after!.abs().sum().ToDouble(), Is.Zero);
        }
        else Assert.That(after, Is.Null);
    }

    /// <summary>The flat path is really flat (parameters and gradients are views of one buffer,
    /// back to back), survives a module's zero_grad() that sets every gradient to none (autograd
    /// then makes new ones, which the optimizer copies back into the buffer), and gives the
    /// readable path's trajectory either way.</summary>
    [Test]
    public void Flat_path_survives_module_zero_grad_and_matches_readable()
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var flat = new Adam(h.ParamsA, lr: 1e-2, weightDecay: 1e-2) { Implementation = Implementation.Flat };
        using var readable = new Adam(h.ParamsB, lr: 1e-2, weightDecay: 1e-2) { Implementation = Implementation.Readable };
        for (int step = 0; step < 40; step++)
        {
            using var scope = NewDisposeScope();
            if (step % 2 == 0)
            {
                h.A.zero_grad();   // TorchSharp's Module.zero_grad: gradients to none
                h.B.zero_grad();
            }
            h.LossAndBackward(h.A);
            h.LossAndBackward(h.B);
            flat.step();
            readable.step();
        }
        // Same formula, same ops; only vectorization boundaries differ (see TorchSharpParityTests).
        Assert.That(h.MaxRelativeDifference(), Is.LessThan(1e-9));
        var ps = h.ParamsA;
        long elementSize = ps[0].element_size();
        for (int i = 1; i < ps.Length; i++)
        {
            Assert.That((long)NativeTensor.Data(ps[i]), Is.EqualTo((long)NativeTensor.Data(ps[i - 1]) + ps[i - 1].numel() * elementSize), $"parameter {i} follows parameter {i - 1}");
            Assert.That(NativeTensor.GradData(ps[i], out var g), Is.EqualTo(NativeTensor.Grad.Dense));
            NativeTensor.GradData(ps[i - 1], out var previous);
            Assert.That((long)g, Is.EqualTo((long)previous + ps[i - 1].numel() * elementSize), $"gradient {i} follows gradient {i - 1}");
        }
    }
}
