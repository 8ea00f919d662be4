using Engine.Normalization;

namespace Engine.Tests.Normalization;

/// <summary>
/// Ghost batch normalization is, by definition, batch normalization applied to each ghost batch as
/// if it were a batch of its own: checked against TorchSharp's nn.BatchNorm2d called on each chunk in
/// turn (outputs concatenated), for outputs, input/γ/β gradients, running statistics and
/// num_batches_tracked, on the formula and the fused path. Tolerance: NormParity.Tolerance (same
/// arithmetic as the plain BatchNorm parity, chunk by chunk).
/// </summary>
public class GhostBatchNormTests
{
    [TestCase(ScalarType.Float32, false, 0.1)]
    [TestCase(ScalarType.Float64, false, 0.1)]
    [TestCase(ScalarType.Float64, false, null)]
    [TestCase(ScalarType.Float32, true, 0.1)]
    public void Ghost_batches_match_torchsharp_batchnorm_on_each_chunk(ScalarType dtype, bool fused, double? momentum)
    {
        manual_seed(91);
        var reference = nn.BatchNorm2d(3, dtype: dtype);
        reference.momentum = momentum;
        var engine = new BatchNorm2d(3, momentum: momentum, dtype: dtype) { GhostBatchSize = 4, UseFusedKernel = fused };
        using (no_grad())
        {
            reference.weight.copy_(randn(3, dtype: dtype).mul(0.3).add(1));
            reference.bias!.copy_(randn(3, dtype: dtype).mul(0.3));
            engine.weight!.copy_(reference.weight);
            engine.bias!.copy_(reference.bias);
        }
        var tolerance = NormParity.Tolerance(dtype);
        for (var step = 0; step < 3; step++)
        {
            var x = NormParity.Input([10, 3, 4, 5], dtype, step);       // ghost batches of 4, 4 and 2
            var xa = x.clone().requires_grad_();
            var xb = x.clone().requires_grad_();
            var ya = cat(xa.split(4, 0).Select(reference.forward).ToArray(), 0);
            var yb = engine.forward(xb);
            var g = randn_like(ya);
            ya.mul(g).sum().backward();
            yb.mul(g).sum().backward();
            Assert.That(NormParity.Relative(ya, yb), Is.LessThanOrEqualTo(tolerance), "output");
            Assert.That(NormParity.Relative(xa.grad!, xb.grad!), Is.LessThanOrEqualTo(tolerance), "input gradient");
            Assert.That(NormParity.Relative(reference.weight.grad!, engine.weight!.grad!), Is.LessThanOrEqualTo(tolerance), "γ gradient");
            Assert.That(NormParity.Relative(reference.bias!.grad!, engine.bias!.grad!), Is.LessThanOrEqualTo(tolerance), "β gradient");
            Assert.That(NormParity.Relative(reference.running_mean!, engine.running_mean!), Is.LessThanOrEqualTo(tolerance), "running_mean");
            Assert.That(NormParity.Relative(reference.running_var!, engine.running_var!), Is.LessThanOrEqualTo(tolerance), "running_var");
            Assert.That(engine.num_batches_tracked!.item<long>(), Is.EqualTo(3 * (step + 1)), "one count per ghost batch");
            reference.zero_grad();
            engine.zero_grad();
        }
        // Eval ignores the ghost size: the whole batch goes through the running statistics.
        reference.eval();
        engine.eval();
        var xe = NormParity.Input([10, 3, 4, 5], dtype, 5);
        using (no_grad()) Assert.That(NormParity.Relative(reference.forward(xe), engine.forward(xe)), Is.LessThanOrEqualTo(tolerance), "eval");
    }

    [Test]
    public void A_last_ghost_batch_of_one_value_per_channel_is_refused_before_any_update()
    {
        var bn = new BatchNorm1d(3) { GhostBatchSize = 4 };
        var e = Assert.Throws<ArgumentException>(() => bn.forward(randn(9, 3)))!;   // 4, 4, 1
        Assert.That(e.Message, Does.Contain("BatchNorm1d").And.Contain("(9, 3)").And.Contain("ghost batches of 4"));
        Assert.That(bn.num_batches_tracked!.item<long>(), Is.EqualTo(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => bn.GhostBatchSize = 0);
    }
}
