using Engine.Nn;
using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>The optimizer base: groups, bad input, parameters without gradients, zeroing.</summary>
public class OptimizerBaseTests
{
    static Tensor Leaf(params long[] shape) => Torch.Randn(shape, device: Device.CPU).RequiresGrad_();

    [Test]
    public void A_parameter_in_two_groups_is_an_error_naming_it()
    {
        using var scope = DisposeScope.Begin();
        var a = Leaf(2, 3);
        using var opt = new Sgd([a], lr: 0.1);
        var ex = Assert.Throws<ArgumentException>(() => opt.AddParamGroup(new ParamGroupSpec([a])))!;
        Assert.That(ex.Message, Does.Contain("more than one group").And.Contain("[2, 3]"));
        Assert.Throws<ArgumentException>(() => new Sgd([a, a], lr: 0.1));
    }

    [Test]
    public void Non_leaf_and_integer_tensors_are_rejected()
    {
        using var scope = DisposeScope.Begin();
        var a = Leaf(3);
        Assert.Throws<ArgumentException>(() => new Adam([a * 2]));
        Assert.Throws<ArgumentException>(() => new Adam([Torch.Zeros([3], ScalarType.Int64, Device.CPU)]));
        Assert.Throws<ArgumentException>(() => new Adam(Array.Empty<Tensor>()));
    }

    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(-1e-3)]
    public void A_non_finite_or_negative_learning_rate_is_an_error(double lr)
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([Leaf(3)], lr: lr))!;
        Assert.That(ex.ParamName, Is.EqualTo("LearningRate"));
    }

    [TestCase(1.0, 0.999, "beta1")]
    [TestCase(-0.1, 0.999, "beta1")]
    [TestCase(0.9, 1.0, "beta2")]
    public void Betas_outside_zero_one_are_an_error(double beta1, double beta2, string name)
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new AdamW([Leaf(3)], beta1: beta1, beta2: beta2))!;
        Assert.That(ex.ParamName, Is.EqualTo(name));
    }

    [TestCase(Implementation.Readable)]
    [TestCase(Implementation.Fused)]
    [TestCase(Implementation.Foreach)]
    public void A_parameter_without_gradient_is_skipped_as_pytorch_does(Implementation impl)
    {
        using var scope = DisposeScope.Begin();
        var used = Leaf(4);
        var unused = Leaf(4);
        var before = unused.Clone();
        using var opt = new Adam([used, unused], lr: 0.1) { Implementation = impl };
        (used * used).Sum().Backward();
        opt.Step();
        Assert.That(unused.Equal(before), Is.True);
        Assert.That(opt.States.ContainsKey(unused), Is.False);
        Assert.That(opt.States[used].Step, Is.EqualTo(1));
    }

    [Test]
    public void New_groups_take_the_defaults_changed_by_their_configuration()
    {
        using var scope = DisposeScope.Begin();
        using var opt = new Adam([Leaf(3)], lr: 1e-3, weightDecay: 0.5);
        var g = opt.AddParamGroup(new ParamGroupSpec([Leaf(3)], o => o.LearningRate = 1e-4));
        var options = (AdamOptions)g.Options;
        Assert.That(options.LearningRate, Is.EqualTo(1e-4));
        Assert.That(options.InitialLearningRate, Is.EqualTo(1e-4));
        Assert.That(options.WeightDecay, Is.EqualTo(0.5));
        Assert.That(((AdamOptions)opt.ParamGroups[0].Options).LearningRate, Is.EqualTo(1e-3));
    }

    [Test]
    public void Weight_decay_split_leaves_biases_and_norm_parameters_out()
    {
        using var scope = DisposeScope.Begin();
        using var model = new Sequential(new Linear(4, 8, device: Device.CPU), new ReLU(), new Linear(8, 2, device: Device.CPU));
        using var opt = new AdamW(ParamGroupSpec.WeightDecaySplit(model, 0.05));
        Assert.That(opt.ParamGroups.Select(g => g.Options.WeightDecay), Is.EqualTo(new[] { 0.05, 0.0 }));
        Assert.That(opt.ParamGroups[0].Parameters.Select(p => p.Dim), Is.All.EqualTo(2));
        Assert.That(opt.ParamGroups[1].Parameters.Select(p => p.Dim), Is.All.EqualTo(1));
        Assert.That(opt.ParamGroups.Sum(g => g.Parameters.Count), Is.EqualTo(4));
    }

    [Test]
    public void ZeroGrad_sets_to_none_by_default_or_to_zeros()
    {
        using var scope = DisposeScope.Begin();
        var a = Leaf(3);
        using var opt = new Sgd([a], lr: 0.1);
        a.Sum().Backward();
        opt.ZeroGrad(setToNone: false);
        Assert.That(a.Grad!.Abs().Sum().Item<double>(), Is.Zero);
        opt.ZeroGrad();
        Assert.That(a.Grad, Is.Null);
    }
}
