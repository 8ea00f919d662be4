using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class FocalTests
{
    /// <summary>The formula, element by element in float64: FL = −α_t (1 − p_t)^γ log p_t.</summary>
    static double[] Reference(double[] x, double[] y, double alpha, double gamma, Reduction reduction)
    {
        var loss = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double p = 1 / (1 + Math.Exp(-x[i]));
            double ce = -(y[i] * Math.Log(p) + (1 - y[i]) * Math.Log(1 - p));
            double pT = p * y[i] + (1 - p) * (1 - y[i]);
            double l = ce * Math.Pow(1 - pT, gamma);
            if (alpha >= 0) l *= alpha * y[i] + (1 - alpha) * (1 - y[i]);
            loss[i] = l;
        }
        return ContrastiveReference.Reduce(loss, reduction);
    }

    /// <summary>torchvision.ops.sigmoid_focal_loss, line for line, on TorchSharp's binary_cross_entropy_with_logits.</summary>
    static Tensor Torchvision(Tensor inputs, Tensor targets, double alpha, double gamma, Reduction reduction)
    {
        var p = inputs.sigmoid();
        var ce = BinaryCrossEntropyWithLogitsTests.TorchSharpBceWithLogits(inputs, targets, null, null, Reduction.None);
        var pT = p * targets + (1 - p) * (1 - targets);
        var loss = ce * (1 - pT).pow(gamma);
        if (alpha >= 0) loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss;
        return reduction switch { Reduction.Mean => loss.mean(), Reduction.Sum => loss.sum(), _ => loss };
    }

    [Test, Combinatorial]
    public void Matches_the_formula_and_torchvision(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(0.25, -1.0)] double alpha,
        [Values(0.0, 0.5, 2.0)] double gamma,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(41);
        var input = Randn(8, 3) * 2;
        var target = Uniform(0, 1, 8, 3).lt(0.3).to(ScalarType.Float64);
        var ours = Loss.Focal(input.to(dtype), target.to(dtype), alpha, gamma, reduction);
        // The reference sees the same (rounded) inputs, so the error is the arithmetic alone.
        var expected = Reference(ToDoubles(input.to(dtype)), ToDoubles(target.to(dtype)), alpha, gamma, reduction);
        var error = Error(ToDoubles(ours), expected);
        TestContext.Out.WriteLine($"Focal {reduction} alpha={alpha} gamma={gamma} [{dtype}] against the formula: {error:G3}");
        ErrorLog.Record("Focal(formula)", dtype, error, 0);
        Assert.That(error, Is.LessThanOrEqualTo(Tolerance(dtype)));

        AssertParity($"Focal {reduction} alpha={alpha} gamma={gamma} against torchvision's expression",
            x => Loss.Focal(x[0], x[1], alpha, gamma, reduction), x => Torchvision(x[0], x[1], alpha, gamma, reduction),
            [input, target], [true, false], dtype);
    }

    [Test]
    public void Gamma_0_and_no_alpha_is_binary_cross_entropy()
    {
        using var scope = NewDisposeScope();
        var input = Randn(5, 2);
        var target = Uniform(0, 1, 5, 2);
        Assert.That(Error(Loss.Focal(input, target, alpha: -1, gamma: 0, Reduction.Mean),
            BinaryCrossEntropyWithLogitsTests.TorchSharpBceWithLogits(input, target, null, null, Reduction.Mean)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(42);
        var target = Uniform(0, 1, 4, 3).lt(0.4).to(ScalarType.Float64);
        AssertGradCheck("Focal alpha 0.25 gamma 2", x => Loss.Focal(x[0], target, 0.25, 2, Reduction.Mean), Randn(4, 3) * 2);
        AssertGradCheck("Focal soft targets, gamma 1.5", x => Loss.Focal(x[0], x[1], 0.6, 1.5, Reduction.Sum), Randn(4, 3), Uniform(0, 1, 4, 3));
    }

    [Test]
    public void Module_defaults_to_the_mean()
    {
        using var scope = NewDisposeScope();
        using var loss = new FocalLoss();
        var input = Randn(4, 3);
        var target = Uniform(0, 1, 4, 3).lt(0.5).to(ScalarType.Float64);
        Assert.That(Error(loss.call(input, target), Loss.Focal(input, target).mean()), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Loss.Focal(Randn(4, 3), Uniform(0, 1, 3, 4)));
        Assert.That(ex!.Message, Does.Contain("Focal").And.Contain("[4, 3]").And.Contain("[3, 4]"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.Focal(Randn(2), Uniform(0, 1, 2), gamma: -1));
    }
}
