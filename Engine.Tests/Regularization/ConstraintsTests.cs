using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class ConstraintsTests
{
    [Test]
    public void Max_norm_equals_torchsharp_renorm_on_rows()
    {
        using var scope = NewDisposeScope();
        manual_seed(80);
        var w = new Parameter(randn(8, 5, ScalarType.Float64) * rand(8, 1, ScalarType.Float64).mul(2));
        var reference = w.detach().renorm(2, 0, 1.5f);
        Constraints.MaxNorm([w], 1.5);
        // renorm computes the same factor c/(‖w_i‖ + 1e-7), possibly with a different summation order: a few ulps.
        Close(w, reference, 1e-14, "MaxNorm vs renorm");
        var norms = linalg.vector_norm(w, 2, [1L]);
        Assert.That(norms.le(1.5).all().item<bool>(), Is.True);
        Assert.That(norms.lt(1.4).any().item<bool>(), Is.True, "the case has rows under the cap, left alone");
    }

    [Test]
    public void Unit_norm_and_non_negative_follow_their_formulas()
    {
        using var scope = NewDisposeScope();
        manual_seed(81);
        var conv = new Parameter(randn([4, 3, 2, 2], ScalarType.Float64));
        var expected = conv.detach() / (linalg.vector_norm(conv.detach(), 2, [1L, 2L, 3L], keepdim: true) + 1e-7);
        Constraints.UnitNorm([conv]);
        Close(conv, expected, 1e-15, "UnitNorm");
        var v = new Parameter(randn(10));
        var clamped = v.detach().clamp(0);
        Constraints.NonNegative([v]);
        Identical(v, clamped, "NonNegative");
    }

    [Test]
    public void Max_norm_after_each_sgd_step_keeps_rows_bounded()
    {
        using var scope = NewDisposeScope();
        manual_seed(82);
        var layer = nn.Linear(10, 4);
        var opt = optim.SGD(layer.parameters(), 0.5);
        for (int step = 0; step < 20; step++)
        {
            using var inner = NewDisposeScope();
            opt.zero_grad();
            layer.forward(randn(16, 10)).pow(2).sum().neg().backward(); // pushes weights outward
            opt.step();
            Constraints.MaxNorm([layer.weight!], 2.0);
        }
        Assert.That(linalg.vector_norm(layer.weight!, 2, [1L]).le(2.0 + 1e-6).all().item<bool>(), Is.True);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Constraints.MaxNorm([layer.weight!], 0))!;
        Assert.That(e.Message, Does.Contain("MaxNorm").And.Contain("0"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Constraints.MaxNorm([layer.weight!], -1));
    }
}
