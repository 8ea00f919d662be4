using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class CtcTests
{
    const long Frames = 12, Batch = 4, NumClasses = 6;

    /// <summary>float32 CTC gradients are exp(α + β − log p − log y) of log-values of magnitude ~20,
    /// so each side carries ~1e-6 of float32 rounding (measured with libtorch 1.13 against a float64
    /// run: ours off by 1.0e-6, libtorch's by 1.9e-6 on this batch). Values still agree to 1e-6.</summary>
    const double Float32GradientTolerance = 5e-6;

    static Tensor TorchSharpCtc(Tensor logProbs, Tensor targets, long[] inputLengths, long[] targetLengths, long blank, Reduction reduction,
        bool zeroInfinity) =>
        nn.functional.ctc_loss(logProbs, targets, tensor(inputLengths), tensor(targetLengths), blank, zeroInfinity, reduction);

    /// <summary>Labels 0.. that skip the blank's index.</summary>
    static long[] Labels(long blank, params long[] letters) => letters.Select(l => l >= blank ? l + 1 : l).ToArray();

    /// <summary>Four sequences: a plain one, an empty target, repeats that need separating blanks, and a long one.</summary>
    static (long[][] Targets, long[] InputLengths) Batch4(long blank) => (
        [Labels(blank, 0, 3, 1, 4), [], Labels(blank, 2, 2, 0), Labels(blank, 1, 1, 3, 3, 3, 0)],
        [12, 9, 7, 12]);

    static Tensor Padded(long[][] targets, long width, long pad) =>
        tensor(targets.SelectMany(t => t.Concat(Enumerable.Repeat(pad, (int)(width - t.Length)))).ToArray(), [targets.Length, width]);

    static Tensor Concatenated(long[][] targets) => tensor(targets.SelectMany(t => t).ToArray(), [targets.Sum(t => t.Length)]);

    [Test, Combinatorial]
    public void Matches_torchsharp_through_log_softmax(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values("padded", "concatenated")] string layout,
        [Values(0L, NumClasses - 1)] long blank,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(161);
        var (targets, inputLengths) = Batch4(blank);
        var targetLengths = targets.Select(t => (long)t.Length).ToArray();
        var targetTensor = layout == "padded" ? Padded(targets, 7, blank) : Concatenated(targets);
        var logits = Randn(Frames, Batch, NumClasses) * 2;
        AssertParity($"Ctc {reduction} {layout} blank={blank}",
            x => Loss.Ctc(x[0].log_softmax(2), x[1], inputLengths, targetLengths, blank, reduction),
            x => TorchSharpCtc(x[0].log_softmax(2), x[1], inputLengths, targetLengths, blank, reduction, false),
            [logits, targetTensor], [true, false], dtype, dtype == ScalarType.Float32 ? Float32GradientTolerance : null);
    }

    [TestCase(false, Reduction.None)]
    [TestCase(false, Reduction.Mean)]
    [TestCase(true, Reduction.None)]
    [TestCase(true, Reduction.Mean)]
    [TestCase(true, Reduction.Sum)]
    public void A_target_too_long_for_its_input_is_infinite_or_zeroed_as_torchsharp(bool zeroInfinity, Reduction reduction)
    {
        using var scope = NewDisposeScope();
        manual_seed(162);
        // Sequence 1 needs 4 frames (a, blank, a, b) but has 3.
        long[][] targets = [[1, 2, 3], [1, 1, 2]];
        long[] inputLengths = [6, 3], targetLengths = [3, 3];
        var targetTensor = Padded(targets, 3, 0);
        var logits = Randn(6, 2, 4);
        AssertParity($"Ctc infeasible zero_infinity={zeroInfinity} {reduction}",
            x => Loss.Ctc(x[0].log_softmax(2), x[1], inputLengths, targetLengths, 0, reduction, zeroInfinity),
            x => TorchSharpCtc(x[0].log_softmax(2), x[1], inputLengths, targetLengths, 0, reduction, zeroInfinity),
            [logits, targetTensor], [true, false], compareGradients: zeroInfinity);
        if (!zeroInfinity)
        {
            var loss = Loss.Ctc(logits, targetTensor, inputLengths, targetLengths, reduction: Reduction.None);
            Assert.That(ToDoubles(loss)[1], Is.EqualTo(double.PositiveInfinity));
        }
    }

    [Test]
    public void Zero_input_length_gives_zero_loss_for_an_empty_target_and_infinity_otherwise()
    {
        using var scope = NewDisposeScope();
        var logProbs = Randn(5, 3, 4).log_softmax(2);
        long[] inputLengths = [0, 0, 5], targetLengths = [0, 2, 2];
        var targets = Padded([[], [1, 2], [2, 3]], 2, 0);
        var ours = ToDoubles(Loss.Ctc(logProbs, targets, inputLengths, targetLengths, reduction: Reduction.None));
        var theirs = ToDoubles(TorchSharpCtc(logProbs, targets, inputLengths, targetLengths, 0, Reduction.None, false));
        Assert.That(ours[2], Is.EqualTo(theirs[2]).Within(1e-12 * theirs[2]));
        // No frames emit the empty target with probability 1 and nothing else. libtorch 1.13
        // returned numbers it never computed here; libtorch 2.10 returns −0 and +∞, as ours.
        Assert.That(ours[0], Is.EqualTo(0));
        Assert.That(ours[1], Is.EqualTo(double.PositiveInfinity));
        Assert.That(theirs[0], Is.EqualTo(0));
        Assert.That(theirs[1], Is.EqualTo(double.PositiveInfinity));
    }

    [TestCase(ScalarType.Float64)]
    [TestCase(ScalarType.Float32)]
    public void One_unbatched_sequence_matches_torchsharp(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(163);
        var targets = Longs(2, 2, 1, 3);
        AssertParity("Ctc unbatched", x => Loss.Ctc(x[0].log_softmax(1), x[1], [10L], [4L], reduction: Reduction.None),
            x => nn.functional.ctc_loss(x[0].log_softmax(1), x[1], Longs(10).squeeze(0), Longs(4).squeeze(0), reduction: Reduction.None),
            [Randn(10, 5), targets], [true, false], dtype);
    }

    [Test]
    public void Lengths_may_be_tensors()
    {
        using var scope = NewDisposeScope();
        var (targets, inputLengths) = Batch4(0);
        var targetLengths = targets.Select(t => (long)t.Length).ToArray();
        var logProbs = Randn(Frames, Batch, NumClasses).log_softmax(2);
        var padded = Padded(targets, 6, 0);
        var fromArrays = Loss.Ctc(logProbs, padded, inputLengths, targetLengths);
        using var module = new CtcLoss();
        var fromTensors = module.call(logProbs, padded.to(ScalarType.Int32), tensor(inputLengths).to(ScalarType.Int32), tensor(targetLengths));
        Assert.That(Error(fromTensors, fromArrays), Is.EqualTo(0));
    }

    [Test]
    public void Gradient_is_exact_with_respect_to_log_probs_where_libtorch_adds_exp_log_probs()
    {
        using var scope = NewDisposeScope();
        manual_seed(164);
        var (targets, inputLengths) = Batch4(0);
        var targetLengths = targets.Select(t => (long)t.Length).ToArray();
        var padded = Padded(targets, 6, 0);
        var ours = Randn(Frames, Batch, NumClasses).log_softmax(2).requires_grad_();
        var theirs = ours.detach().clone().requires_grad_();
        Loss.Ctc(ours, padded, inputLengths, targetLengths, reduction: Reduction.Sum).backward();
        TorchSharpCtc(theirs, padded, inputLengths, targetLengths, 0, Reduction.Sum, false).backward();
        // libtorch returns Graves' eq. 16, the gradient of the pre-softmax activations: ours + exp(log_probs)
        // on every frame inside a sequence's length, ours (0) beyond it.
        var inside = arange(0, Frames, dtype: ScalarType.Int64).view(Frames, 1).lt(tensor(inputLengths).view(1, Batch))
            .unsqueeze(2).to(ScalarType.Float64);
        var expected = ours.grad! + ours.detach().exp() * inside;
        Assert.That(Error(theirs.grad!, expected), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(165);
        var targets = Padded([[1, 1, 2], [3]], 3, 0);
        long[] inputLengths = [6, 4], targetLengths = [3, 1];
        AssertGradCheck("Ctc with respect to log_probs directly",
            x => Loss.Ctc(x[0], targets, inputLengths, targetLengths, reduction: Reduction.Sum), Randn(6, 2, 4).log_softmax(2));
        AssertGradCheck("Ctc through log_softmax, mean",
            x => Loss.Ctc(x[0].log_softmax(2), targets, inputLengths, targetLengths, blank: 0), Randn(6, 2, 4));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = NewDisposeScope();
        var logProbs = Randn(Frames, 2, NumClasses).log_softmax(2);
        var targets = Padded([[1, 2], [3, 9]], 2, 0);
        var ex = Assert.Throws<ArgumentException>(() => Loss.Ctc(logProbs, targets, [12, 12], [2, 2]));
        Assert.That(ex!.Message, Does.Contain("Ctc").And.Contain("target class 9").And.Contain("[0, 6)"));
        ex = Assert.Throws<ArgumentException>(() => Loss.Ctc(logProbs, Padded([[1, 2], [3, 4]], 2, 0), [12], [2, 2]));
        Assert.That(ex!.Message, Does.Contain("Ctc").And.Contain("[12, 2, 6]").And.Contain("1 input lengths"));
        ex = Assert.Throws<ArgumentException>(() => Loss.Ctc(logProbs, Padded([[1, 2], [3, 4]], 2, 0), [13, 12], [2, 2]));
        Assert.That(ex!.Message, Does.Contain("Ctc").And.Contain("input length 13"));
        ex = Assert.Throws<ArgumentException>(() => Loss.Ctc(logProbs, Padded([[1, 2], [3, 4]], 2, 0), [12, 12], [2, 3]));
        Assert.That(ex!.Message, Does.Contain("Ctc").And.Contain("[2, 2]"));
        ex = Assert.Throws<ArgumentException>(() => Loss.Ctc(logProbs, Randn(2, 2), [12, 12], [2, 2]));
        Assert.That(ex!.Message, Does.Contain("Ctc").And.Contain("float64"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.Ctc(logProbs, targets, [12, 12], [2, 2], blank: 6));
    }
}
