using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class DropConnectTests
{
    [Test]
    public void DropConnect_equals_linear_with_dropped_weights_under_the_same_seed()
    {
        using var scope = NewDisposeScope();
        manual_seed(20);
        var layer = new DropConnect(6, 4, 0.5);
        var x = randn(8, 6);
        manual_seed(21);
        var ours = layer.forward(x);
        manual_seed(21);
        var reference = nn.functional.linear(x, nn.functional.dropout(layer.Linear.weight!, 0.5, training: true), layer.Linear.bias);
        Identical(ours, reference, "DropConnect forward");

        // The weight gradient is masked: dropped weights get none.
        manual_seed(22);
        layer.forward(x).sum().backward();
        manual_seed(22);
        var mask = nn.functional.dropout(ones_like(layer.Linear.weight!), 0.5, training: true);
        var expected = mask * x.sum([0L]).unsqueeze(0).expand(4, 6);
        Close(layer.Linear.weight!.grad!, expected, 1e-6, "DropConnect weight gradient = M/(1−p)·Σx (float32 sums of 8 terms)");
        Assert.That(layer.Linear.weight!.grad!.eq(0).any().item<bool>(), Is.True, "some weights dropped");
    }

    [Test]
    public void DropConnect_is_the_plain_linear_in_eval()
    {
        using var scope = NewDisposeScope();
        var layer = new DropConnect(6, 4, 0.5);
        layer.eval();
        var x = randn(8, 6);
        Identical(layer.forward(x), layer.Linear.forward(x), "eval");
        Assert.That(layer.parameters().Count(), Is.EqualTo(2), "weight and bias are the module's parameters");
    }
}
