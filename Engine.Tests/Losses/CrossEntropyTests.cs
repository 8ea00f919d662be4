using Engine.Losses;
using Reduction = TorchSharp.torch.nn.Reduction;

namespace Engine.Tests.Losses;

using static LossParity;

public class CrossEntropyTests
{
    const long NumClasses = 5;

    internal static Tensor TorchSharpCrossEntropy(Tensor input, Tensor target, Tensor? weight, Reduction reduction, long ignoreIndex, double smoothing) =>
        nn.functional.cross_entropy(input, target, weight, ignoreIndex, reduction, smoothing);

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
            using var mask = Uniform(0, 1, target.shape).lt(0.35);
            target.masked_fill_(mask, -100);
        }
        if (rank > 1 && ignore != "none")
        {
            var flat = target.view(-1);
            flat[0] = 0;      // at least one target counts
            flat[1] = 1;      // class 1 occurs ("class" mode ignores it)
            if (ignore == "negative") flat[2] = -100;
        }
        return (target, ignoreIndex);
    }

    [Test, Combinatorial]
    public void Class_indices_match_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(false, true)] bool weighted,
        [Values("none", "negative", "class")] string ignore,
        [Values(0.0, 0.2)] double smoothing,
        [Values(1, 2, 4)] int rank,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var input = Randn(InputShape(rank)) * 2;
        var (target, ignoreIndex) = ClassTargets(rank, ignore);
        var weight = Uniform(0.2, 2, NumClasses);
        AssertParity($"CrossEntropy {reduction} weighted={weighted} ignore={ignore} smoothing={smoothing} rank={rank}",
            x => Loss.CrossEntropy(x[0], x[1], weighted ? x[2] : null, reduction, ignoreIndex, smoothing),
            x => TorchSharpCrossEntropy(x[0], x[1], weighted ? x[2] : null, reduction, ignoreIndex, smoothing),
            [input, target, weight], [true, false, false], dtype,
            gradientsMayAllBeZero: target.eq(ignoreIndex).all().item<bool>()); // the unbatched target may be the ignored class
    }

    [Test, Combinatorial]
    public void Probability_targets_match_torchsharp(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(false, true)] bool weighted,
        [Values(0.0, 0.2)] double smoothing,
        [Values(1, 2, 4)] int rank,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        var shape = InputShape(rank);
        int classDim = rank == 1 ? 0 : 1;
        var input = Randn(shape) * 2;
        var target = Randn(shape).softmax(classDim);
        var weight = Uniform(0.2, 2, NumClasses);
        AssertParity($"CrossEntropy probabilities {reduction} weighted={weighted} smoothing={smoothing} rank={rank}",
            x => Loss.CrossEntropy(x[0], x[1], weighted ? x[2] : null, reduction, labelSmoothing: smoothing),
            x => TorchSharpCrossEntropy(x[0], x[1], weighted ? x[2] : null, reduction, -100, smoothing),
            [input, target, weight], [true, true, false], dtype);
    }

    [Test]
    public void Every_target_ignored_gives_NaN_mean_as_torchsharp()
    {
        using var scope = NewDisposeScope();
        var input = Randn(4, NumClasses);
        var target = full([4], -100L, ScalarType.Int64);
        var ours = Loss.CrossEntropy(input, target);
        var theirs = TorchSharpCrossEntropy(input, target, null, Reduction.Mean, -100, 0);
        Assert.That(theirs.item<double>(), Is.NaN);
        Assert.That(ours.item<double>(), Is.NaN);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var (target, ignoreIndex) = ClassTargets(2, "negative");
        var weight = Uniform(0.2, 2, NumClasses);
        AssertGradCheck("CrossEntropy weighted, ignore_index, smoothing 0.1",
            x => Loss.CrossEntropy(x[0], target, weight, Reduction.Mean, ignoreIndex, 0.1), Randn(InputShape(2)));
        var (target4, _) = ClassTargets(4, "none");
        AssertGradCheck("CrossEntropy [N, C, d1, d2] per element",
            x => Loss.CrossEntropy(x[0], target4, reduction: Reduction.None), Randn(InputShape(4)));
        AssertGradCheck("CrossEntropy probability targets (input and target), weighted, smoothing 0.2",
            x => Loss.CrossEntropy(x[0], x[1].softmax(1), weight, Reduction.Mean, labelSmoothing: 0.2),
            Randn(InputShape(2)), Randn(InputShape(2)));
    }

    [Test]
    public void Module_calls_the_function_and_keeps_its_weight_as_a_buffer()
    {
        using var scope = NewDisposeScope();
        var weight = Uniform(0.5, 1.5, NumClasses);
        using var loss = new CrossEntropyLoss(weight, ignoreIndex: 0, labelSmoothing: 0.1);
        var input = Randn(6, NumClasses);
        var target = Classes(NumClasses, 6);
        var expected = TorchSharpCrossEntropy(input, target, weight, Reduction.Mean, 0, 0.1);
        Assert.That(Error(loss.call(input, target), expected), Is.LessThanOrEqualTo(Float64Tolerance));
        Assert.That(loss.named_buffers().Select(b => b.name), Is.EqualTo(new[] { "weight" }));
        using var plain = new CrossEntropyLoss();
        Assert.That(plain.named_buffers(), Is.Empty);
        // A TorchSharp module like any other: it drops into code typed on nn.Module<Tensor, Tensor, Tensor>.
        nn.Module<Tensor, Tensor, Tensor> asModule = loss;
        Assert.That(Error(asModule.call(input, target), expected), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Module_weight_follows_the_module_to_another_dtype()
    {
        using var scope = NewDisposeScope();
        var weight = Uniform(0.5, 1.5, NumClasses);
        using var loss = new CrossEntropyLoss(weight);
        loss.to(ScalarType.Float32);
        Assert.That(loss.Weight!.dtype, Is.EqualTo(ScalarType.Float32));
        var input = Randn(6, NumClasses).to(ScalarType.Float32);
        var target = Classes(NumClasses, 6);
        var expected = TorchSharpCrossEntropy(input, target, weight.to(ScalarType.Float32), Reduction.Mean, -100, 0);
        Assert.That(Error(loss.call(input, target), expected), Is.LessThanOrEqualTo(Float32Tolerance));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = NewDisposeScope();
        var input = Randn(3, NumClasses);
        var ex = Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(input, Classes(NumClasses, 4)));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("[4]").And.Contain("[3, 5]"));

        ex = Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(input, Classes(NumClasses, 3).to(ScalarType.Int32)));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("int64").And.Contain("int32"));

        ex = Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(input, Longs(0, 5, 1)));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("target class 5").And.Contain("[0, 5)"));

        ex = Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(input, Longs(0, -1, 1)));
        Assert.That(ex!.Message, Does.Contain("target class -1"));

        ex = Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(input, Classes(NumClasses, 3), weight: Randn(4)));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("weight").And.Contain("[4]"));

        ex = Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(input, Classes(NumClasses, 3), weight: Randn(NumClasses).to(ScalarType.Float32)));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("float32").And.Contain("float64"));

        ex = Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(input, Randn(3, 4)));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("[3, 4]").And.Contain("[3, 5]"));

        ex = Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(Longs(1, 2, 3), Longs(0)));
        Assert.That(ex!.Message, Does.Contain("CrossEntropy").And.Contain("floating"));

        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.CrossEntropy(input, Classes(NumClasses, 3), labelSmoothing: 1.5));
        Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(input, Classes(NumClasses, 3), reduction: (Reduction)7));
    }
}
