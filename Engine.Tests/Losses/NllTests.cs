using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

/// <summary>
/// TorchSharp's nll_loss has no ignore_index, so with ignored targets the reference is its
/// cross_entropy of the logits, which is nll_loss of their log_softmax: ours runs Nll on
/// log_softmax(logits) and both gradients are taken with respect to the logits. The same holds
/// for an unbatched [C] input, which TorchSharp's nll_loss rejects ("Expected 2 or more dimensions").
/// </summary>
public class NllTests
{
    const long NumClasses = 5;

    [Test, Combinatorial]
    public void Matches_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(false, true)] bool weighted,
        [Values("none", "negative", "class")] string ignore,
        [Values(1, 2, 4)] int rank,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        int classDim = rank == 1 ? 0 : 1;
        var logits = Randn(CrossEntropyTests.InputShape(rank));
        var (target, ignoreIndex) = CrossEntropyTests.ClassTargets(rank, ignore);
        var weight = Uniform(0.2, 2, NumClasses);
        AssertParity($"Nll {reduction} weighted={weighted} ignore={ignore} rank={rank}",
            x => Loss.Nll(x[0].log_softmax(classDim), x[1], weighted ? x[2] : null, reduction, ignoreIndex),
            x => ignore == "none" && rank > 1 // TorchSharp's nll_loss also lacks unbatched [C] inputs
                ? nn.functional.nll_loss(x[0].log_softmax(classDim), x[1], weighted ? x[2] : null, reduction)
                : CrossEntropyTests.TorchSharpCrossEntropy(x[0], x[1], weighted ? x[2] : null, reduction, ignoreIndex, 0),
            [logits, target, weight], [true, false, false], dtype,
            gradientsMayAllBeZero: target.eq(ignoreIndex).all().item<bool>()); // the unbatched target may be the ignored class
    }

    [TestCase(ScalarType.Float64)]
    [TestCase(ScalarType.Float32)]
    public void Gradient_with_respect_to_log_probabilities_matches_torchsharp_nll_loss(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(13);
        var logProbs = Randn(CrossEntropyTests.InputShape(4)).log_softmax(1);
        var (target, _) = CrossEntropyTests.ClassTargets(4, "none");
        var weight = Uniform(0.2, 2, NumClasses);
        foreach (var reduction in new[] { Reduction.None, Reduction.Mean, Reduction.Sum })
            AssertParity($"Nll direct {reduction}", x => Loss.Nll(x[0], x[1], x[2], reduction),
                x => nn.functional.nll_loss(x[0], x[1], x[2], reduction), [logProbs, target, weight], [true, false, false], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        var (target, ignoreIndex) = CrossEntropyTests.ClassTargets(4, "class");
        var weight = Uniform(0.2, 2, NumClasses);
        AssertGradCheck("Nll [N, C, d1, d2] weighted, ignore class 1",
            x => Loss.Nll(x[0], target, weight, Reduction.Mean, ignoreIndex), Randn(CrossEntropyTests.InputShape(4)));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = NewDisposeScope();
        var weight = Uniform(0.5, 1.5, NumClasses);
        using var loss = new NllLoss(weight, Reduction.Sum);
        var input = Randn(6, NumClasses).log_softmax(1);
        var target = Classes(NumClasses, 6);
        Assert.That(Error(loss.call(input, target), nn.functional.nll_loss(input, target, weight, Reduction.Sum)), Is.LessThanOrEqualTo(Float64Tolerance));
        Assert.That(loss.named_buffers().Select(b => b.name), Is.EqualTo(new[] { "weight" }));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = NewDisposeScope();
        var input = Randn(3, NumClasses, 4);
        var ex = Assert.Throws<ArgumentException>(() => Loss.Nll(input, Classes(NumClasses, 3, 5)));
        Assert.That(ex!.Message, Does.Contain("Nll").And.Contain("[3, 5]").And.Contain("[3, 5, 4]").And.Contain("[3, 4]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.Nll(input, Randn(3, 4)));
        Assert.That(ex!.Message, Does.Contain("Nll").And.Contain("int64").And.Contain("float64"));
        ex = Assert.Throws<ArgumentException>(() => Loss.Nll(Randn(2, NumClasses), Longs(7, 0)));
        Assert.That(ex!.Message, Does.Contain("Nll").And.Contain("target class 7"));
        ex = Assert.Throws<ArgumentException>(() => Loss.Nll(Randn(), Longs(0)));
        Assert.That(ex!.Message, Does.Contain("Nll").And.Contain("0-d"));
    }
}
