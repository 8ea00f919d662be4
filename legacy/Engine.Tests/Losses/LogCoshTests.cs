using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class LogCoshTests
{
    [Test, Combinatorial]
    public void Matches_log_cosh_and_its_gradient_tanh(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(91);
        var input = Randn(6, 4) * 3;
        var target = Randn(6, 4);
        target[0, 0] = input[0, 0];
        var x = ToDoubles(input.To(dtype)); // the same rounded inputs as ours
        var y = ToDoubles(target.To(dtype));
        int n = x.Length;

        // The formula with plain loops: log(cosh(d)), and d/dx = tanh(d) (scaled by the reduction).
        var values = x.Select((xi, i) => Math.Log(Math.Cosh(xi - y[i]))).ToArray();
        double scale = reduction == Reduction.Mean ? 1.0 / n : 1.0;
        double[] expected = reduction switch
        {
            Reduction.Mean => [values.Sum() / n],
            Reduction.Sum => [values.Sum()],
            _ => values,
        };
        var expectedGrad = x.Select((xi, i) => Math.Tanh(xi - y[i]) * scale).ToArray();

        var leaf = input.To(dtype, copy: true).RequiresGrad_();
        var loss = Functional.LogCosh(leaf, target.To(dtype), reduction);
        loss.Backward(reduction == Reduction.None ? Torch.OnesLike(loss) : null);
        double valueError = Error(loss, Doubles(expected, loss.Shape));
        double gradError = Error(leaf.Grad!, Doubles(expectedGrad, leaf.Shape));
        TestContext.Out.WriteLine($"LogCosh {reduction} [{dtype.TorchName()}]: value error {valueError:G3}, gradient error {gradError:G3}");
        Assert.That(valueError, Is.LessThanOrEqualTo(Tolerance(dtype)));
        Assert.That(gradError, Is.LessThanOrEqualTo(Tolerance(dtype)));
    }

    [Test]
    public void Large_errors_do_not_overflow()
    {
        using var scope = DisposeScope.Begin();
        var d = Doubles([1000, -1000, 1e-8]);
        using var loss = Functional.LogCosh(d, Torch.ZerosLike(d), Reduction.None);
        var v = ToDoubles(loss);
        Assert.That(v[0], Is.EqualTo(1000 - Math.Log(2)).Within(1e-12));
        Assert.That(v[1], Is.EqualTo(1000 - Math.Log(2)).Within(1e-12));
        Assert.That(v[2], Is.EqualTo(0.5e-16).Within(1e-28));
        using var f = Functional.LogCosh(d.Float(), Torch.ZerosLike(d).Float(), Reduction.None);
        Assert.That(f.ToArray<float>().All(float.IsFinite), Is.True);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(92);
        AssertGradCheck("LogCosh", x => Functional.LogCosh(x[0], x[1]), Randn(4, 3) * 2, Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = DisposeScope.Begin();
        var (input, target) = (Randn(5), Randn(5));
        using var loss = new LogCoshLoss(Reduction.Sum);
        Assert.That(Error(loss.Call(input, target), Functional.LogCosh(input, target, Reduction.Sum)), Is.EqualTo(0));
    }

    [Test]
    public void Mismatched_shapes_throw()
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Functional.LogCosh(Randn(3, 1), Randn(1, 3)));
        Assert.That(ex!.Message, Does.Contain("LogCosh").And.Contain("[3, 1]").And.Contain("[1, 3]"));
    }
}
