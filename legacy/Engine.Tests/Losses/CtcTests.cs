using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class CtcTests
{
    static readonly Op s_oracle = Op.Get("aten::ctc_loss", "IntList");
    const long Frames = 12, Batch = 4, NumClasses = 6;

    /// <summary>float32 CTC gradients are exp(α + β − log p − log y) of log-values of magnitude ~20,
    /// so each side carries ~1e-6 of float32 rounding: against a float64 run, ours is off by 1.0e-6
    /// and libtorch's by 1.9e-6 on this batch. Values still agree to 1e-6.</summary>
    const double Float32GradientTolerance = 5e-6;

    static Tensor Libtorch(Tensor logProbs, Tensor targets, long[] inputLengths, long[] targetLengths, long blank, Reduction reduction,
        bool zeroInfinity) =>
        s_oracle.Call(logProbs, targets, inputLengths, targetLengths, blank, (long)reduction, zeroInfinity);

    /// <summary>Labels 0.. that skip the blank's index.</summary>
    static long[] Labels(long blank, params long[] letters) => letters.Select(l => l >= blank ? l + 1 : l).ToArray();

    /// <summary>Four sequences: a plain one, an empty target, repeats that need separating blanks, and a long one.</summary>
    static (long[][] Targets, long[] InputLengths) Batch4(long blank) => (
        [Labels(blank, 0, 3, 1, 4), [], Labels(blank, 2, 2, 0), Labels(blank, 1, 1, 3, 3, 3, 0)],
        [12, 9, 7, 12]);

    static Tensor Padded(long[][] targets, long width, long pad) =>
        Torch.FromSpan<long>(targets.SelectMany(t => t.Concat(Enumerable.Repeat(pad, (int)(width - t.Length)))).ToArray(),
            [targets.Length, width], Device.CPU);

    static Tensor Concatenated(long[][] targets) => Torch.FromSpan<long>(targets.SelectMany(t => t).ToArray(), [targets.Sum(t => t.Length)], Device.CPU);

    [Test, Combinatorial]
    public void Matches_libtorch_through_log_softmax(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values("padded", "concatenated")] string layout,
        [Values(0L, NumClasses - 1)] long blank,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(161);
        var (targets, inputLengths) = Batch4(blank);
        var targetLengths = targets.Select(t => (long)t.Length).ToArray();
        var targetTensor = layout == "padded" ? Padded(targets, 7, blank) : Concatenated(targets);
        var logits = Randn(Frames, Batch, NumClasses) * 2;
        AssertParity($"Ctc {reduction} {layout} blank={blank}",
            x => Functional.Ctc(x[0].LogSoftmax(2), x[1], inputLengths, targetLengths, blank, reduction),
            x => Libtorch(x[0].LogSoftmax(2), x[1], inputLengths, targetLengths, blank, reduction, false),
            [logits, targetTensor], [false, false], dtype);
        AssertParity($"Ctc {reduction} {layout} blank={blank} gradients",
            x => Functional.Ctc(x[0].LogSoftmax(2), x[1], inputLengths, targetLengths, blank, reduction),
            x => Libtorch(x[0].LogSoftmax(2), x[1], inputLengths, targetLengths, blank, reduction, false),
            [logits, targetTensor], [true, false], dtype, dtype == ScalarType.Float32 ? Float32GradientTolerance : null);
    }

    [TestCase(false, Reduction.None)]
    [TestCase(false, Reduction.Mean)]
    [TestCase(true, Reduction.None)]
    [TestCase(true, Reduction.Mean)]
    [TestCase(true, Reduction.Sum)]
    public void A_target_too_long_for_its_input_is_infinite_or_zeroed_as_libtorch(bool zeroInfinity, Reduction reduction)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(162);
        // Sequence 1 needs 4 frames (a, blank, a, b) but has 3.
        long[][] targets = [[1, 2, 3], [1, 1, 2]];
        long[] inputLengths = [6, 3], targetLengths = [3, 3];
        var targetTensor = Padded(targets, 3, 0);
        var logits = Randn(6, 2, 4);
        AssertParity($"Ctc infeasible zero_infinity={zeroInfinity} {reduction}",
            x => Functional.Ctc(x[0].LogSoftmax(2), x[1], inputLengths, targetLengths, 0, reduction, zeroInfinity),
            x => Libtorch(x[0].LogSoftmax(2), x[1], inputLengths, targetLengths, 0, reduction, zeroInfinity),
            [logits, targetTensor], [true, false], compareGradients: zeroInfinity);
        if (!zeroInfinity)
        {
            using var loss = Functional.Ctc(logits, targetTensor, inputLengths, targetLengths, reduction: Reduction.None);
            Assert.That(ToDoubles(loss)[1], Is.EqualTo(double.PositiveInfinity));
        }
    }

    [Test]
    public void Zero_input_length_gives_zero_loss_for_an_empty_target_and_infinity_otherwise()
    {
        using var scope = DisposeScope.Begin();
        var logProbs = Randn(5, 3, 4).LogSoftmax(2);
        long[] inputLengths = [0, 0, 5], targetLengths = [0, 2, 2];
        var targets = Padded([[], [1, 2], [2, 3]], 2, 0);
        var ours = ToDoubles(Functional.Ctc(logProbs, targets, inputLengths, targetLengths, reduction: Reduction.None));
        var theirs = ToDoubles(Libtorch(logProbs, targets, inputLengths, targetLengths, 0, Reduction.None, false));
        Assert.That(ours[2], Is.EqualTo(theirs[2]).Within(1e-12 * theirs[2]));
        // No frames emit the empty target with probability 1 and nothing else. For an input length
        // of 0 libtorch 1.13 returns numbers it never computed (here -6.9e-310 and -0.69, no
        // negative log-probabilities), so it is no reference for this case.
        Assert.That(ours[0], Is.EqualTo(0));
        Assert.That(ours[1], Is.EqualTo(double.PositiveInfinity));
        TestContext.Out.WriteLine($"libtorch's losses for empty inputs: {theirs[0]}, {theirs[1]}");
    }

    [TestCase(ScalarType.Float64)]
    [TestCase(ScalarType.Float32)]
    public void One_unbatched_sequence_matches_libtorch(ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(163);
        var targets = Torch.FromArray(new long[] { 2, 2, 1, 3 });
        AssertParity("Ctc unbatched", x => Functional.Ctc(x[0].LogSoftmax(1), x[1], [10L], [4L], reduction: Reduction.None),
            x => Libtorch(x[0].LogSoftmax(1), x[1], [10], [4], 0, Reduction.None, false), [Randn(10, 5), targets], [true, false], dtype);
    }

    [Test]
    public void Lengths_may_be_tensors()
    {
        using var scope = DisposeScope.Begin();
        var (targets, inputLengths) = Batch4(0);
        var targetLengths = targets.Select(t => (long)t.Length).ToArray();
        var logProbs = Randn(Frames, Batch, NumClasses).LogSoftmax(2);
        var padded = Padded(targets, 6, 0);
        using var fromArrays = Functional.Ctc(logProbs, padded, inputLengths, targetLengths);
        using var fromTensors = new CtcLoss().Call(logProbs, padded.Int(), Torch.FromArray(inputLengths).Int(), Torch.FromArray(targetLengths));
        Assert.That(Error(fromTensors, fromArrays), Is.EqualTo(0));
    }

    [Test]
    public void Gradient_is_exact_with_respect_to_log_probs_where_libtorch_adds_exp_log_probs()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(164);
        var (targets, inputLengths) = Batch4(0);
        var targetLengths = targets.Select(t => (long)t.Length).ToArray();
        var padded = Padded(targets, 6, 0);
        var ours = Randn(Frames, Batch, NumClasses).LogSoftmax(2).RequiresGrad_();
        var theirs = ours.Detach().Clone().RequiresGrad_();
        Functional.Ctc(ours, padded, inputLengths, targetLengths, reduction: Reduction.Sum).Backward();
        Libtorch(theirs, padded, inputLengths, targetLengths, 0, Reduction.Sum, false).Backward();
        // libtorch returns Graves' eq. 16, the gradient of the pre-softmax activations: ours + exp(log_probs)
        // on every frame inside a sequence's length, ours (0) beyond it.
        var inside = (Torch.Arange(Frames, device: Device.CPU).View(Frames, 1) < Torch.FromArray(inputLengths).View(1, Batch))
            .Unsqueeze(2).To(ScalarType.Float64);
        var expected = ours.Grad! + ours.Detach().Exp() * inside;
        Assert.That(Error(theirs.Grad!, expected), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(165);
        var targets = Padded([[1, 1, 2], [3]], 3, 0);
        long[] inputLengths = [6, 4], targetLengths = [3, 1];
        AssertGradCheck("Ctc with respect to log_probs directly",
            x => Functional.Ctc(x[0], targets, inputLengths, targetLengths, reduction: Reduction.Sum), Randn(6, 2, 4).LogSoftmax(2));
        AssertGradCheck("Ctc through log_softmax, mean",
            x => Functional.Ctc(x[0].LogSoftmax(2), targets, inputLengths, targetLengths, blank: 0), Randn(6, 2, 4));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        var logProbs = Randn(Frames, 2, NumClasses).LogSoftmax(2);
        var targets = Padded([[1, 2], [3, 9]], 2, 0);
        var ex = Assert.Throws<ArgumentException>(() => Functional.Ctc(logProbs, targets, [12, 12], [2, 2]));
        Assert.That(ex!.Message, Does.Contain("Ctc").And.Contain("target class 9").And.Contain("[0, 6)"));
        ex = Assert.Throws<ArgumentException>(() => Functional.Ctc(logProbs, Padded([[1, 2], [3, 4]], 2, 0), [12], [2, 2]));
        Assert.That(ex!.Message, Does.Contain("Ctc").And.Contain("[12, 2, 6]").And.Contain("1 input lengths"));
        ex = Assert.Throws<ArgumentException>(() => Functional.Ctc(logProbs, Padded([[1, 2], [3, 4]], 2, 0), [13, 12], [2, 2]));
        Assert.That(ex!.Message, Does.Contain("Ctc").And.Contain("input length 13"));
        ex = Assert.Throws<ArgumentException>(() => Functional.Ctc(logProbs, Padded([[1, 2], [3, 4]], 2, 0), [12, 12], [2, 3]));
        Assert.That(ex!.Message, Does.Contain("Ctc").And.Contain("[2, 2]"));
        ex = Assert.Throws<ArgumentException>(() => Functional.Ctc(logProbs, Randn(2, 2), [12, 12], [2, 2]));
        Assert.That(ex!.Message, Does.Contain("Ctc").And.Contain("float64"));
    }
}
