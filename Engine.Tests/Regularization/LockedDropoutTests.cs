using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class LockedDropoutTests
{
    [Test]
    public void Locked_dropout_equals_dropout1d_over_time_under_the_same_seed()
    {
        using var scope = NewDisposeScope();
        var x = randn(10, 4, 6); // [T, N, H]
        manual_seed(50);
        var ours = new LockedDropout(0.3).forward(x);
        manual_seed(50);
        // dropout1d on [N, H, T] draws one bit per (n, h): the same count, in the same order, as [1, N, H].
        var reference = nn.functional.dropout1d(x.permute(1, 2, 0), 0.3, training: true).permute(2, 0, 1);
        Identical(ours, reference, "LockedDropout time-major");

        var xb = randn(4, 10, 6); // [N, T, H]
        manual_seed(51);
        var oursB = new LockedDropout(0.3, batchFirst: true).forward(xb);
        manual_seed(51);
        var referenceB = nn.functional.dropout1d(xb.transpose(1, 2), 0.3, training: true).transpose(1, 2);
        Identical(oursB, referenceB, "LockedDropout batch-first");
    }

    [Test]
    public void Locked_dropout_uses_one_mask_per_sequence()
    {
        using var scope = NewDisposeScope();
        manual_seed(52);
        var y = LockedDropout.Apply(ones(20, 8, 16), 0.5);
        Identical(y, y[0].unsqueeze(0).expand(20, 8, 16), "same mask at every step");
        Assert.Throws<ArgumentException>(() => LockedDropout.Apply(ones(3, 4), 0.5));
        var module = new LockedDropout(0.5);
        module.eval();
        var x = randn(3, 2, 2);
        Identical(module.forward(x), x, "eval");
    }
}
