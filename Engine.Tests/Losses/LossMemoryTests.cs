using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class LossMemoryTests
{
    static long Live => DisposeScopeManager.Statistics.ThreadTotalLiveCount;

    /// <summary>A loss frees its temporaries (and those of its input checks) before returning: only
    /// the result is left for the caller, as in a training step without a scope.</summary>
    [Test]
    public void Losses_leave_only_their_result_alive()
    {
        using var scope = NewDisposeScope();
        var logits = Randn(6, 5).requires_grad_();
        var target = Classes(5, 6);
        var probabilities = Uniform(0.1, 0.9, 6, 5).requires_grad_();
        var soft = Uniform(0, 1, 6, 5);
        var z = Randn(6, 5);
        var logProbs = Randn(8, 2, 5).log_softmax(2).detach().requires_grad_();
        var ctcTargets = tensor(new long[] { 1, 2, 2, 3 }, [2, 2]);
        var cases = new (string Name, Func<Tensor> Loss)[]
        {
            ("CrossEntropy", () => Loss.CrossEntropy(logits, target, labelSmoothing: 0.1)),
            ("Nll", () => Loss.Nll(logits, target, ignoreIndex: 2)),
            ("BinaryCrossEntropy", () => Loss.BinaryCrossEntropy(probabilities, soft)),
            ("BinaryCrossEntropyWithLogits", () => Loss.BinaryCrossEntropyWithLogits(logits, soft)),
            ("Focal", () => Loss.Focal(logits, soft, reduction: Reduction.Mean)),
            ("LogCosh", () => Loss.LogCosh(logits, z)),
            ("TripletMargin", () => Loss.TripletMargin(logits, z, soft, swap: true)),
            ("NtXent", () => Loss.NtXent(logits, z)),
            ("InfoNce", () => Loss.InfoNce(logits, z, soft)),
            ("Ctc", () => Loss.Ctc(logProbs, ctcTargets, [8, 6], [2, 2])),
        };
        foreach (var (name, loss) in cases)
        {
            long before = Live;
            using (var result = loss().DetachFromDisposeScope())
            {
                Assert.That(Live, Is.EqualTo(before + 1), $"{name}: tensors alive besides the result");
                result.backward();
            }
            Assert.That(Live, Is.EqualTo(before), name);
        }
    }
}
