using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

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
