using Engine.Losses;
using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class LabelSmoothingTests
{
    [Test]
    public void Smoothed_targets_give_torchsharp_cross_entropy_with_label_smoothing([Values(0.0, 0.1, 0.3)] double epsilon)
    {
        using var scope = NewDisposeScope();
        manual_seed(110);
        var logits = randn(9, 5, ScalarType.Float64) * 2;
        var y = randint(0, 5, [9], ScalarType.Int64);
        var soft = LabelSmoothing.Smooth(y, 5, epsilon, ScalarType.Float64);
        var reference = nn.functional.cross_entropy(logits, y, label_smoothing: epsilon);
        // float64 log-softmax and a 45-term sum computed in two groupings: ~1e-16 relative.
        Close(Loss.CrossEntropy(logits, soft), reference, 1e-12, $"CE(logits, smooth(y)) ε={epsilon}");
        Close(LabelSmoothing.CrossEntropy(logits, y, epsilon), reference, 1e-12, $"LabelSmoothing.CrossEntropy ε={epsilon}");
        Close(soft.sum([1L]), ones(9, ScalarType.Float64), 1e-15, "rows sum to 1");
        Assert.That(soft.min().item<double>(), Is.EqualTo(epsilon / 5).Within(1e-15));
    }
}
