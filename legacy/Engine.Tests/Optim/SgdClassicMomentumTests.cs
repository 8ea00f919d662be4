using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>The seed's velocity form of momentum against PyTorch's form (<see cref="Sgd"/>): the
/// same sequence of weights while η is constant, as the seed says.</summary>
public class SgdClassicMomentumTests
{
    static IEnumerable<TestCaseData> Cases()
    {
        yield return new TestCaseData(0.1, 0.9, 0.0, false).SetName("SgdClassicMomentum_equals_Sgd_momentum_over_150_steps_float64");
        yield return new TestCaseData(0.05, 0.99, 1e-3, false).SetName("SgdClassicMomentum_with_weight_decay_equals_Sgd_over_150_steps_float64");
        yield return new TestCaseData(0.1, 0.9, 0.0, true).SetName("SgdClassicMomentum_nesterov_equals_Sgd_nesterov_over_150_steps_float64");
        yield return new TestCaseData(0.2, 0.0, 0.0, false).SetName("SgdClassicMomentum_without_momentum_is_plain_sgd_float64");
    }

    [TestCaseSource(nameof(Cases))]
    public void Equals_sgd_with_constant_lr(double lr, double momentum, double weightDecay, bool nesterov)
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var classic = new SgdClassicMomentum(h.ParamsA, lr, momentum, weightDecay, nesterov);
        using var sgd = new Sgd(h.ParamsB, lr, momentum, weightDecay: weightDecay, nesterov: nesterov) { Implementation = Implementation.Readable };
        double worst = 0;
        for (int step = 0; step < 150; step++)
        {
            using var scope = DisposeScope.Begin();
            h.LossAndBackward(h.A);
            h.LossAndBackward(h.B);
            classic.Step();
            sgd.Step();
            worst = Math.Max(worst, h.MaxRelativeDifference());
        }
        // v = −η·b exactly in real arithmetic; float64 rounding only.
        Assert.That(worst, Is.LessThan(1e-12));
        using (DisposeScope.Begin()) Assert.That(h.LossAndBackward(h.A).Item<double>(), Is.LessThan(1.0));
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
            using var scope = DisposeScope.Begin();
            if (step == 5) classic.ParamGroups[0].LearningRate = sgd.ParamGroups[0].LearningRate = 0.01;
            h.LossAndBackward(h.A);
            h.LossAndBackward(h.B);
            classic.Step();
            sgd.Step();
        }
        Assert.That(h.MaxRelativeDifference(), Is.GreaterThan(1e-3));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void SgdClassicMomentum_resumes_exactly_from_its_state_dict(bool nesterov) =>
        Assert.That(OptimizerChecks.ResumeDifference(p => new SgdClassicMomentum(p, lr: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: nesterov)), Is.EqualTo(0));

    [Test]
    public void SgdClassicMomentum_rejects_bad_hyperparameters()
    {
        using var p = Torch.Zeros([2], ScalarType.Float64, Device.CPU).RequiresGrad_();
        Assert.That(() => new SgdClassicMomentum([p], lr: -0.1), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new SgdClassicMomentum([p], momentum: -0.9), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new SgdClassicMomentum([p], weightDecay: double.NegativeInfinity), Throws.InstanceOf<ArgumentException>());
        Assert.That(() => new SgdClassicMomentum([p], momentum: 0, nesterov: true), Throws.InstanceOf<ArgumentException>());
    }
}
