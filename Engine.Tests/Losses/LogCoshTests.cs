using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

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
