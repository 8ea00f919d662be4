using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class NllTests
{
    static readonly Op s_oracle = Op.Get("aten::nll_loss_nd");
    const long NumClasses = 5;

    static Tensor Libtorch(Tensor input, Tensor target, Tensor? weight, Reduction reduction, long ignoreIndex) =>
        s_oracle.Call(input, target, weight, (long)reduction, ignoreIndex);

    [Test, Combinatorial]
    public void Matches_libtorch(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(false, true)] bool weighted,
        [Values("none", "negative", "class")] string ignore,
        [Values(1, 2, 4)] int rank,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(11);
        var logProbs = Randn(CrossEntropyTests.InputShape(rank)).LogSoftmax(rank == 1 ? 0 : 1);
        var (target, ignoreIndex) = CrossEntropyTests.ClassTargets(rank, ignore);
        var weight = Uniform(0.2, 2, NumClasses);
        AssertParity($"Nll {reduction} weighted={weighted} ignore={ignore} rank={rank}",
            x => Functional.Nll(x[0], x[1], weighted ? x[2] : null, reduction, ignoreIndex),
            x => Libtorch(x[0], x[1], weighted ? x[2] : null, reduction, ignoreIndex),
            [logProbs, target, weight], [true, false, false], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(12);
        var (target, ignoreIndex) = CrossEntropyTests.ClassTargets(4, "class");
        var weight = Uniform(0.2, 2, NumClasses);
        AssertGradCheck("Nll [N, C, d1, d2] weighted, ignore class 1",
            x => Functional.Nll(x[0], target, weight, Reduction.Mean, ignoreIndex), Randn(CrossEntropyTests.InputShape(4)));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = DisposeScope.Begin();
        var weight = Uniform(0.5, 1.5, NumClasses);
        using var loss = new NllLoss(weight, Reduction.Sum);
        var input = Randn(6, NumClasses).LogSoftmax(1);
        var target = Classes(NumClasses, 6);
        Assert.That(Error(loss.Call(input, target), Libtorch(input, target, weight, Reduction.Sum, -100)), Is.LessThanOrEqualTo(Float64Tolerance));
        Assert.That(loss.NamedBuffers().Select(b => b.Name), Is.EqualTo(new[] { "weight" }));
    }

    [Test]
    public void Bad_inputs_throw_naming_the_loss_and_shapes()
    {
        using var scope = DisposeScope.Begin();
        var input = Randn(3, NumClasses, 4);
        var ex = Assert.Throws<ArgumentException>(() => Functional.Nll(input, Classes(NumClasses, 3, 5)));
        Assert.That(ex!.Message, Does.Contain("Nll").And.Contain("[3, 5]").And.Contain("[3, 5, 4]").And.Contain("[3, 4]"));
        ex = Assert.Throws<ArgumentException>(() => Functional.Nll(input, Randn(3, 4)));
        Assert.That(ex!.Message, Does.Contain("Nll").And.Contain("int64").And.Contain("float64"));
        ex = Assert.Throws<ArgumentException>(() => Functional.Nll(Randn(2, NumClasses), Torch.FromArray(new long[] { 7, 0 })));
        Assert.That(ex!.Message, Does.Contain("Nll").And.Contain("target class 7"));
    }
}
