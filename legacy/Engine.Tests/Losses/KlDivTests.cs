using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class KlDivTests
{
    static readonly Op s_oracle = Op.Get("aten::kl_div");

    /// <summary>torch.nn.functional.kl_div: batchmean is aten's sum divided by input.size(0).</summary>
    static Tensor Libtorch(Tensor input, Tensor target, Reduction reduction, bool logTarget) => reduction == Reduction.BatchMean
        ? s_oracle.Call(input, target, (long)Reduction.Sum, logTarget) / (double)input.Size(0)
        : s_oracle.Call(input, target, (long)reduction, logTarget);

    [Test, Combinatorial]
    public void Matches_libtorch(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum, Reduction.BatchMean)] Reduction reduction,
        [Values(false, true)] bool logTarget,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(101);
        var input = Randn(4, 6).LogSoftmax(1);
        var probabilities = Randn(4, 6).Softmax(1);
        probabilities[0, 0] = Torch.Scalar(0.0, ScalarType.Float64, Device.CPU); // y log y = 0 at y = 0
        var target = logTarget ? Randn(4, 6).LogSoftmax(1) : probabilities;
        // The target's gradient is compared too where it is defined everywhere (log targets).
        AssertParity($"KlDiv {reduction} log_target={logTarget}", x => Functional.KlDiv(x[0], x[1], reduction, logTarget),
            x => Libtorch(x[0], x[1], reduction, logTarget), [input, target], [true, logTarget], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(102);
        var target = Randn(3, 4).Softmax(1);
        AssertGradCheck("KlDiv batchmean", x => Functional.KlDiv(x[0].LogSoftmax(1), target, Reduction.BatchMean), Randn(3, 4));
        AssertGradCheck("KlDiv log_target, input and target",
            x => Functional.KlDiv(x[0].LogSoftmax(1), x[1].LogSoftmax(1), Reduction.Sum, logTarget: true), Randn(3, 4), Randn(3, 4));
    }

    [Test]
    public void Module_accepts_batchmean()
    {
        using var scope = DisposeScope.Begin();
        var input = Randn(5, 3).LogSoftmax(1);
        var target = Randn(5, 3).Softmax(1);
        using var loss = new KlDivLoss(Reduction.BatchMean);
        Assert.That(Error(loss.Call(input, target), Libtorch(input, target, Reduction.BatchMean, false)), Is.LessThanOrEqualTo(Float64Tolerance));
        Assert.That(loss.ToString(), Is.EqualTo("KlDivLoss(reduction=batchmean)"));
        Assert.Throws<ArgumentException>(() => new MseLoss(Reduction.BatchMean));
    }

    [Test]
    public void Mismatched_shapes_throw()
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Functional.KlDiv(Randn(4, 3), Randn(4, 1)));
        Assert.That(ex!.Message, Does.Contain("KlDiv").And.Contain("[4, 3]").And.Contain("[4, 1]"));
    }
}
