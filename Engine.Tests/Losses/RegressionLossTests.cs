using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

/// <summary>Mse, L1, Huber and SmoothL1 against TorchSharp's mse_loss, l1_loss, huber_loss and smooth_l1_loss.</summary>
public class MseTests
{
    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(51);
        AssertParity($"Mse {reduction}", x => Loss.Mse(x[0], x[1], reduction), x => nn.functional.mse_loss(x[0], x[1], reduction),
            [Randn(5, 3, 2), Randn(5, 3, 2)], [true, true], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        AssertGradCheck("Mse", x => Loss.Mse(x[0], x[1]), Randn(4, 3), Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (input, target) = (Randn(4), Randn(4));
        using var loss = new MseLoss(Reduction.Sum);
        Assert.That(Error(loss.call(input, target), nn.functional.mse_loss(input, target, Reduction.Sum)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Mismatched_shapes_throw_instead_of_broadcasting()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.Mse(Randn(8, 1), Randn(8)));
        Assert.That(ex!.Message, Does.Contain("Mse").And.Contain("[8, 1]").And.Contain("[8]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.Mse(Randn(3), Longs(1, 2, 3)));
        Assert.That(ex!.Message, Does.Contain("Mse").And.Contain("int64"));
        Assert.Throws<ArgumentException>(() => new MseLoss((Reduction)5));
    }
}

public class L1Tests
{
    [Test, Combinatorial]
    public void Matches_torchsharp_including_ties(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(61);
        var input = Randn(5, 3);
        var target = Randn(5, 3);
        target[0, 0] = input[0, 0]; // a tie: the gradient there is sign(0) = 0 on both sides
        AssertParity($"L1 {reduction}", x => Loss.L1(x[0], x[1], reduction), x => nn.functional.l1_loss(x[0], x[1], reduction),
            [input, target], [true, true], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        AssertGradCheck("L1", x => Loss.L1(x[0], x[1]), Randn(4, 3), Randn(4, 3) + 3);
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (input, target) = (Randn(4), Randn(4));
        using var loss = new L1Loss();
        Assert.That(Error(loss.call(input, target), nn.functional.l1_loss(input, target)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Mismatched_shapes_throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.L1(Randn(2, 3), Randn(3, 2)));
        Assert.That(ex!.Message, Does.Contain("L1").And.Contain("[2, 3]").And.Contain("[3, 2]"));
    }
}

public class HuberTests
{
    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(0.5, 1.0, 2.5)] double delta,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(71);
        var input = Randn(6, 4) * 2;
        var target = Randn(6, 4);
        target[0, 0] = input[0, 0];               // d = 0
        target[0, 1] = input[0, 1] - delta;       // d = δ exactly, the seam
        AssertParity($"Huber {reduction} delta={delta}", x => Loss.Huber(x[0], x[1], delta, reduction),
            x => nn.functional.huber_loss(x[0], x[1], delta, reduction), [input, target], [true, true], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(72);
        AssertGradCheck("Huber delta 0.7", x => Loss.Huber(x[0], x[1], 0.7), Randn(4, 3) * 2, Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (input, target) = (Randn(5) * 3, Randn(5));
        using var loss = new HuberLoss(delta: 1.5);
        Assert.That(Error(loss.call(input, target), nn.functional.huber_loss(input, target, 1.5)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.Huber(Randn(2, 3), Randn(2)));
        Assert.That(ex!.Message, Does.Contain("Huber").And.Contain("[2, 3]").And.Contain("[2]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.Huber(Randn(2), Randn(2), delta: 0));
    }
}

public class SmoothL1Tests
{
    /// <summary>torch.nn.functional.smooth_l1_loss: β = 0 is l1_loss (whose gradient at a tie is 0;
    /// aten::smooth_l1_loss's own backward at β = 0 gives −1 there, as 0 ≤ −0).</summary>
    static Tensor TorchSharpSmoothL1(Tensor input, Tensor target, Reduction reduction, double beta) => beta == 0
        ? nn.functional.l1_loss(input, target, reduction)
        : nn.functional.smooth_l1_loss(input, target, reduction, beta);

    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(0.0, 0.5, 1.0, 2.5)] double beta,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(81);
        var input = Randn(6, 4) * 2;
        var target = Randn(6, 4);
        target[0, 0] = input[0, 0];
        target[0, 1] = input[0, 1] + beta;
        AssertParity($"SmoothL1 {reduction} beta={beta}", x => Loss.SmoothL1(x[0], x[1], beta, reduction),
            x => TorchSharpSmoothL1(x[0], x[1], reduction, beta), [input, target], [true, true], dtype);
    }

    [Test]
    public void Beta_1_equals_Huber_delta_1()
    {
        using var scope = NewDisposeScope();
        var (input, target) = (Randn(10) * 3, Randn(10));
        Assert.That(Error(Loss.SmoothL1(input, target), Loss.Huber(input, target)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(82);
        AssertGradCheck("SmoothL1 beta 0.6", x => Loss.SmoothL1(x[0], x[1], 0.6), Randn(4, 3) * 2, Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (input, target) = (Randn(5) * 3, Randn(5));
        using var loss = new SmoothL1Loss(Reduction.Sum, beta: 0.5);
        Assert.That(Error(loss.call(input, target), nn.functional.smooth_l1_loss(input, target, Reduction.Sum, 0.5)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.SmoothL1(Randn(4), Randn(5)));
        Assert.That(ex!.Message, Does.Contain("SmoothL1").And.Contain("[4]").And.Contain("[5]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.SmoothL1(Randn(2), Randn(2), beta: -1));
    }
}

public class LogCoshTests
{
    [Test, Combinatorial]
    public void Matches_log_cosh_and_its_gradient_tanh(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(91);
        var input = Randn(6, 4) * 3;
        var target = Randn(6, 4);
        target[0, 0] = input[0, 0];
        var x = ToDoubles(input.to(dtype)); // the same rounded inputs as ours
        var y = ToDoubles(target.to(dtype));
        int n = x.Length;

        // The formula with plain loops: log(cosh(d)), and d/dx = tanh(d) (scaled by the reduction).
        var values = x.Select((xi, i) => Math.Log(Math.Cosh(xi - y[i]))).ToArray();
        double scale = reduction == Reduction.Mean ? 1.0 / n : 1.0;
        var expected = ContrastiveReference.Reduce(values, reduction);
        var expectedGrad = x.Select((xi, i) => Math.Tanh(xi - y[i]) * scale).ToArray();

        var leaf = input.to(dtype, copy: true).requires_grad_();
        var loss = Loss.LogCosh(leaf, target.to(dtype), reduction);
        loss.backward([ones_like(loss)]);
        double valueError = Error(ToDoubles(loss), expected);
        double gradError = Error(ToDoubles(leaf.grad!), expectedGrad);
        TestContext.Out.WriteLine($"LogCosh {reduction} [{dtype}]: value error {valueError:G3}, gradient error {gradError:G3}");
        ErrorLog.Record("LogCosh(formula)", dtype, valueError, gradError);
        Assert.That(valueError, Is.LessThanOrEqualTo(Tolerance(dtype)));
        Assert.That(gradError, Is.LessThanOrEqualTo(Tolerance(dtype)));
    }

    [Test]
    public void Large_errors_do_not_overflow()
    {
        using var scope = NewDisposeScope();
        var d = Doubles([1000, -1000, 1e-8]);
        var v = ToDoubles(Loss.LogCosh(d, zeros_like(d), Reduction.None));
        Assert.That(v[0], Is.EqualTo(1000 - Math.Log(2)).Within(1e-12));
        Assert.That(v[1], Is.EqualTo(1000 - Math.Log(2)).Within(1e-12));
        Assert.That(v[2], Is.EqualTo(0.5e-16).Within(1e-28));
        var f = Loss.LogCosh(d.to(ScalarType.Float32), zeros_like(d).to(ScalarType.Float32), Reduction.None);
        Assert.That(f.data<float>().ToArray().All(float.IsFinite), Is.True);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(92);
        AssertGradCheck("LogCosh", x => Loss.LogCosh(x[0], x[1]), Randn(4, 3) * 2, Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var (input, target) = (Randn(5), Randn(5));
        using var loss = new LogCoshLoss(Reduction.Sum);
        Assert.That(Error(loss.call(input, target), Loss.LogCosh(input, target, Reduction.Sum)), Is.EqualTo(0));
    }

    [Test]
    public void Mismatched_shapes_throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.LogCosh(Randn(3, 1), Randn(1, 3)));
        Assert.That(ex!.Message, Does.Contain("LogCosh").And.Contain("[3, 1]").And.Contain("[1, 3]"));
    }
}

public class KlDivTests
{
    /// <summary>torch.nn.functional.kl_div: batchmean is the sum divided by input.size(0).</summary>
    static Tensor TorchSharpKlDiv(Tensor input, Tensor target, KlDivReduction reduction, bool logTarget) => reduction == KlDivReduction.BatchMean
        ? nn.functional.kl_div(input, target, logTarget, Reduction.Sum) / (double)input.shape[0]
        : nn.functional.kl_div(input, target, logTarget, (Reduction)(int)reduction);

    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(KlDivReduction.None, KlDivReduction.Mean, KlDivReduction.Sum, KlDivReduction.BatchMean)] KlDivReduction reduction,
        [Values(false, true)] bool logTarget,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(101);
        var input = Randn(4, 6).log_softmax(1);
        var probabilities = Randn(4, 6).softmax(1);
        probabilities[0, 0] = 0.0; // y log y = 0 at y = 0
        var target = logTarget ? Randn(4, 6).log_softmax(1) : probabilities;
        // The target's gradient is compared too where it is defined everywhere (log targets).
        AssertParity($"KlDiv {reduction} log_target={logTarget}", x => Loss.KlDiv(x[0], x[1], reduction, logTarget),
            x => TorchSharpKlDiv(x[0], x[1], reduction, logTarget), [input, target], [true, logTarget], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(102);
        var target = Randn(3, 4).softmax(1);
        AssertGradCheck("KlDiv batchmean", x => Loss.KlDiv(x[0].log_softmax(1), target, KlDivReduction.BatchMean), Randn(3, 4));
        AssertGradCheck("KlDiv log_target, input and target",
            x => Loss.KlDiv(x[0].log_softmax(1), x[1].log_softmax(1), KlDivReduction.Sum, logTarget: true), Randn(3, 4), Randn(3, 4));
    }

    [Test]
    public void Module_accepts_batchmean()
    {
        using var scope = NewDisposeScope();
        var input = Randn(5, 3).log_softmax(1);
        var target = Randn(5, 3).softmax(1);
        using var loss = new KlDivLoss(KlDivReduction.BatchMean);
        Assert.That(Error(loss.call(input, target), TorchSharpKlDiv(input, target, KlDivReduction.BatchMean, false)), Is.LessThanOrEqualTo(Float64Tolerance));
        Assert.Throws<ArgumentException>(() => new KlDivLoss((KlDivReduction)9));
    }

    [Test]
    public void Mismatched_shapes_throw()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.KlDiv(Randn(4, 3), Randn(4, 1)));
        Assert.That(ex!.Message, Does.Contain("KlDiv").And.Contain("[4, 3]").And.Contain("[4, 1]"));
    }
}
