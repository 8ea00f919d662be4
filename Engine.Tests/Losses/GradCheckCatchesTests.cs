using Engine.Autograd;
using Engine.Losses;

namespace Engine.Tests.Losses;

using static LossParity;

public class GradCheckCatchesTests
{
    [Test]
    public void GradCheck_catches_a_loss_whose_gradient_is_wrong()
    {
        using var scope = NewDisposeScope();
        manual_seed(171);
        var target = Randn(4, 3);
        // A squared error whose second factor is detached: the value is right, the gradient half of it.
        Tensor Broken(Tensor[] x)
        {
            var d = x[0] - target;
            return (d * d.detach()).mean();
        }
        var result = GradCheck.Check(Broken, [Randn(4, 3).requires_grad_()]);
        TestContext.Out.WriteLine(result.Report);
        Assert.That(result.Passed, Is.False);
        Assert.That(result.Report, Does.Contain("mismatch"));
        Assert.That(GradCheck.Check(x => Loss.Mse(x[0], target), [Randn(4, 3).requires_grad_()]).Passed, Is.True);
    }
}
