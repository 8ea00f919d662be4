using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class CrossEntropyTests
{
    static readonly Op s_oracle = Op.Get("aten::cross_entropy_loss");
    const long NumClasses = 5;

    static Tensor Libtorch(Tensor input, Tensor target, Tensor? weight, Reduction reduction, long ignoreIndex, double smoothing) =>
        s_oracle.Call(input, target, weight, (long)reduction, ignoreIndex, smoothing);

    /// <summary>Input shape for a rank: [C] unbatched, [N, C], or [N, C, d1, d2].</summary>
    internal static long[] InputShape(int rank) => rank switch
    {
        1 => [NumClasses],
        2 => [7, NumClasses],
        _ => [3, NumClasses, 2, 3],
    };

    internal static long[] TargetShape(int rank) => InputShape(rank).Where((_, d) => d != (rank == 1 ? 0 : 1)).ToArray();

    /// <summary>Class targets; "negative" ignores about a third with -100, "class" ignores class 1.</summary>
    internal static (Tensor Target, long IgnoreIndex) ClassTargets(int rank, string ignore)
    {
        var target = Classes(NumClasses, TargetShape(rank));
        long ignoreIndex = ignore == "class" ? 1 : -100;
        if (ignore == "negative")
        {
            using var mask = Uniform(0, 1, target.Shape) < 0.35;
            target.MaskedFill_(mask, -100);
        }
        if (rank > 1 && ignore != "none")
        {
            var flat = target.View(-1);
            flat.IndexFill_(0, 0);      // at least one target counts
            flat.IndexFill_(1, 1);      // class 1 occurs ("class" mode ignores it)
            if (ignore == "negative") flat.IndexFill_(-100, 2);
        }
        return (target, ignoreIndex);
    }

    [Test, Combinatorial]
    public void Class_indices_match_libtorch(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(false, true)] bool weighted,
        [Values("none", "negative", "class")] string ignore,
        [Values(0.0, 0.2)] double smoothing,
        [Values(1, 2, 4)] int rank,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(1);
        var input = Randn(InputShape(rank)) * 2;
        var (target, ignoreIndex) = ClassTargets(rank, ignore);
        var weight = Uniform(0.2, 2, NumClasses);
        AssertParity($"CrossEntropy {reduction} weighted={weighted} ignore={ignore} smoothing={smoothing} rank={rank}",
            x => Functional.CrossEntropy(x[0], x[1], weighted ? x[2] : null, reduction, ignoreIndex, smoothing),
            x => Libtorch(x[0], x[1], weighted ? x[2] : null, reduction, ignoreIndex, smoothing),
            [input, target, weight], [true, false, false], dtype);
    }

    [Test, Combinatorial]
    public void Probability_targets_match_libtorch(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(false, true)] bool weighted,
        [Values(0.0, 0.2)] double smoothing,
        [Values(1, 2, 4)] int rank,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(2);
        var shape = InputShape(rank);
        int classDim = rank == 1 ? 0 : 1;
        var input = Randn(shape) * 2;
        var target = Randn(shape).Softmax(classDim);
        var weight = Uniform(0.2, 2, NumClasses);
        AssertParity($"CrossEntropy probabilities {reduction} weighted={weighted} smoothing={smoothing} rank={rank}",
            x => Functional.CrossEntropy(x[0], x[1], weighted ? x[2] : null, reduction, labelSmoothing: smoothing),
            x => Libtorch(x[0], x[1], weighted ? x[2] : null, reduction, -100, smoothing),
            [input, target, weight], [true, true, false], dtype);
    }

    [Test]
    public void Every_target_ignored_gives_NaN_mean_as_libtorch()
    {
        using var scope = DisposeScope.Begin();
        var input = Randn(4, NumClasses);
        var target = Torch.Full([4], -100L, device: Device.CPU);
        using var ours = Functional.CrossEntropy(input, target);
        using var theirs = Libtorch(input, target, null, Reduction.Mean, -100, 0);
        Assert.That(theirs.ToDouble(), Is.NaN);
        Assert.That(ours.ToDouble(), Is.NaN);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(3);
        var (target, ignoreIndex) = ClassTargets(2, "negative");
        var weight = Uniform(0.2, 2, NumClasses);
        AssertGradCheck("CrossEntropy weighted, ignore_index, smoothing 0.1",
            x => Functional.CrossEntropy(x[0], target, weight, Reduction.Mean, ignoreIndex, 0.1), Randn(InputShape(2)));
        var (target4, _) = ClassTargets(4, "none");
        AssertGradCheck("CrossEntropy [N, C, d1, d2] per element",
            x => Functional.CrossEntropy(x[0], target4, reduction: Reduction.None), Randn(InputShape(4)));
        AssertGradCheck("CrossEntropy probability targets (input and target), weighted, smoothing 0.2",
            x => Functional.CrossEntropy(x[0], x[1].Softmax(1), weight, Reduction.Mean, labelSmoothing: 0.2),
            Randn(InputShape(2)), Randn(InputShape(2)));
    }

    [Test]
    public void Module_calls_the_function_and_keeps_its_weight_as_a_buffer()
    {
        using var scope = DisposeScope.Begin();
        var weight = Uniform(0.5, 1.5, NumClasses);
        using var loss = new CrossEntropyLoss(weight, ignoreIndex: 0, labelSmoothing: 0.1);
        var input = Randn(6, NumClasses);
        var target = Classes(NumClasses, 6);
        var expected = Libtorch(input, target, weight, Reduction.Mean, 0, 0.1);
        Assert.That(Error(loss.Call(input, target), expected), Is.LessThanOrEqualTo(Float64Tolerance));
        Assert.That(loss.NamedBuffers().Select(b => b.Name), Is.EqualTo(new[] { "weight" }));
        Assert.That(new CrossEntropyLoss().NamedBuffers(), Is.Empty);
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        var input = Randn(3, NumClasses);
        var ex = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(input, Classes(NumClasses, 4)));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("[4]").And.Contain("[3, 5]"));

        ex = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(input, Classes(NumClasses, 3).Int()));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("int64").And.Contain("int32"));

        ex = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(input, Torch.FromArray(new long[] { 0, 5, 1 })));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("target class 5").And.Contain("[0, 5)"));

        ex = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(input, Torch.FromArray(new long[] { 0, -1, 1 })));
        Assert.That(ex!.Message, Does.Contain("target class -1"));

        ex = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(input, Classes(NumClasses, 3), weight: Randn(4)));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("weight").And.Contain("[4]"));

        ex = Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(input, Randn(3, 4)));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("[3, 4]").And.Contain("[3, 5]"));

        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.CrossEntropy(input, Classes(NumClasses, 3), labelSmoothing: 1.5));
        Assert.Throws<ArgumentException>(() => Functional.CrossEntropy(input, Classes(NumClasses, 3), reduction: Reduction.BatchMean));
    }
}
