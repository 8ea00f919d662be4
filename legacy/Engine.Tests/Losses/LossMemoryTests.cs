using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class LossMemoryTests
{
    /// <summary>A loss frees its temporaries (and those of its input checks) before returning: only
    /// the result is left for the caller, as in a training step without a scope.</summary>
    [Test]
    public void Losses_leave_only_their_result_alive()
    {
        using var scope = DisposeScope.Begin();
        var logits = Randn(6, 5).RequiresGrad_();
        var target = Classes(5, 6);
        var probabilities = Uniform(0.1, 0.9, 6, 5).RequiresGrad_();
        var soft = Uniform(0, 1, 6, 5);
        var z = Randn(6, 5);
        var logProbs = Randn(8, 2, 5).LogSoftmax(2).RequiresGrad_();
        var ctcTargets = Torch.FromArray(new long[] { 1, 2, 2, 3 }, 2, 2);
        var cases = new (string Name, Func<Tensor> Loss)[]
        {
            ("CrossEntropy", () => Functional.CrossEntropy(logits, target, labelSmoothing: 0.1)),
            ("BinaryCrossEntropy", () => Functional.BinaryCrossEntropy(probabilities, soft)),
            ("BinaryCrossEntropyWithLogits", () => Functional.BinaryCrossEntropyWithLogits(logits, soft)),
            ("Focal", () => Functional.Focal(logits, soft, reduction: Reduction.Mean)),
            ("LogCosh", () => Functional.LogCosh(logits, z)),
            ("TripletMargin", () => Functional.TripletMargin(logits, z, soft, swap: true)),
            ("NtXent", () => Functional.NtXent(logits, z)),
            ("InfoNce", () => Functional.InfoNce(logits, z, soft)),
            ("Ctc", () => Functional.Ctc(logProbs, ctcTargets, [8, 6], [2, 2])),
        };
        foreach (var (name, loss) in cases)
        {
            long before = Tensor.LiveCount;
            using (var result = loss().DetachFromDisposeScope())
            {
                result.Backward();
                Assert.That(Tensor.LiveCount, Is.EqualTo(before + 1), $"{name}: tensors alive besides the result");
            }
            Assert.That(Tensor.LiveCount, Is.EqualTo(before), name);
        }
    }
}
