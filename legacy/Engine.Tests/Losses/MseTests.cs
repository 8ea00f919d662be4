using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class MseTests
{
    static readonly Op s_oracle = Op.Get("aten::mse_loss");

    [Test, Combinatorial]
    public void Matches_libtorch(
        [Values(Reduction.None, Reduction.Mean, Reduction.Sum)] Reduction reduction,
        [Values(ScalarType.Float64, ScalarType.Float32)] ScalarType dtype)
    {
        using var scope = DisposeScope.Begin();
        Torch.ManualSeed(51);
        AssertParity($"Mse {reduction}", x => Functional.Mse(x[0], x[1], reduction), x => s_oracle.Call(x[0], x[1], (long)reduction),
            [Randn(5, 3, 2), Randn(5, 3, 2)], [true, true], dtype);
    }

    [Test]
    public void Gradients_pass_GradCheck()
    {
        using var scope = DisposeScope.Begin();
        AssertGradCheck("Mse", x => Functional.Mse(x[0], x[1]), Randn(4, 3), Randn(4, 3));
    }

    [Test]
    public void Module_calls_the_function()
    {
        using var scope = DisposeScope.Begin();
        var (input, target) = (Randn(4), Randn(4));
        using var loss = new MseLoss(Reduction.Sum);
        Assert.That(Error(loss.Call(input, target), s_oracle.Call(input, target, (long)Reduction.Sum)), Is.LessThanOrEqualTo(Float64Tolerance));
    }

    [Test]
    public void Mismatched_shapes_throw_instead_of_broadcasting()
    {
        using var scope = DisposeScope.Begin();
        var ex = Assert.Throws<ArgumentException>(() => Functional.Mse(Randn(8, 1), Randn(8)));
        Assert.That(ex!.Message, Does.Contain("Mse").And.Contain("[8, 1]").And.Contain("[8]"));
        ex = Assert.Throws<ArgumentException>(() => Functional.Mse(Randn(3), Torch.FromArray(new long[] { 1, 2, 3 })));
        Assert.That(ex!.Message, Does.Contain("Mse").And.Contain("int64"));
    }
}
