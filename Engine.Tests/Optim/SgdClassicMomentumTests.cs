using Engine.Optim;
using TS = TorchSharp.Modules;

namespace Engine.Tests.Optim;

/// <summary>The seed's velocity form of momentum against PyTorch's form (TorchSharp's
/// torch.optim.SGD): the same sequence of weights while η is constant, as the seed says.</summary>
public class SgdClassicMomentumTests
{
    static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(0.1, 0.9, 0.0, false).SetName("SgdClassicMomentum_equals_torchsharp_SGD_momentum_over_150_steps_float64");
        yield return new TestCaseData(0.05, 0.99, 1e-3, false).SetName("SgdClassicMomentum_with_weight_decay_equals_torchsharp_SGD_over_150_steps_float64");
        yield return new TestCaseData(0.1, 0.9, 0.0, true).SetName("SgdClassicMomentum_nesterov_equals_torchsharp_SGD_nesterov_over_150_steps_float64");
        yield return new TestCaseData(0.2, 0.0, 0.0, false).SetName("SgdClassicMomentum_without_momentum_is_plain_sgd_float64");
    }

    [TestCaseSource(nameof(Cases))]
    public void Equals_sgd_with_constant_lr(double lr, double momentum, double weightDecay, bool nesterov)
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var classic = new SgdClassicMomentum(h.ParamsA, lr, momentum, weightDecay, nesterov);
        using var sgd = new TS.SGD(h.ParamsB, lr, momentum, weight_decay: weightDecay, nesterov: nesterov);
        double worst = 0;
        for (int step = 0; step < 150; step++)
        {
            using var scope = NewDisposeScope();
            h.LossAndBackward(h.A);
            h.LossAndBackward(h.B);
            classic.step();
            sgd.step();
            worst = Math.Max(worst, h.MaxRelativeDifference());
        }
        TestContext.Out.WriteLine($"max relative difference over 150 steps: {worst:E2}");
        // v = −η·b exactly in real arithmetic; the two forms round differently (η·b vs Σ η·g),
        // about 1e-16 a step, grown along the trajectory: 1e-9 bounds it on any CPU.
        Assert.That(worst, Is.LessThan(1e-9));
        using (NewDisposeScope()) Assert.That(h.LossAndBackward(h.A).ToDouble(), Is.LessThan(1.0));
    }

    [Test]
    public void SgdClassicMomentum_parts_from_Sgd_when_lr_changes()
    {
        // After a change of η the velocity form keeps the old velocity; PyTorch's form rescales it.
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var classic = new SgdClassicMomentum(h.ParamsA, lr: 0.1, momentum: 0.9);
        using var sgd = new Sgd(h.ParamsB, lr: 0.1, momentum: 0.9);
        for (int step = 0; step < 10; step++)
        {
            using var scope = NewDisposeScope();
            if (step == 5) classic.Groups[0].LearningRate = sgd.Groups[0].LearningRate = 0.01;
            h.LossAndBackward(h.A);
            h.LossAndBackward(h.B);
            classic.step();
            sgd.step();
        }
        Assert.That(h.MaxRelativeDifference(), Is.GreaterThan(1e-3));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void SgdClassicMomentum_resumes_exactly_from_its_state_dict(bool nesterov) =>
        Assert.That(OptimizerChecks.ResumeDifference(p => new SgdClassicMomentum(p, lr: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: nesterov)), Is.EqualTo(0));
}
