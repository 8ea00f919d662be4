using Engine.Averaging;

namespace Engine.Tests.Averaging;

/// <summary>ExponentialMovingAverage against a float64 recursion written here from the formulas
/// (TensorFlow's ExponentialMovingAverage with num_updates, PyTorch 2.x's get_ema_multi_avg_fn,
/// timm's ModelEmaV3 warmup), and its apply/restore and checkpoint state.</summary>
public class ExponentialMovingAverageTests
{
    /// <summary>d_t written independently: TF's min(d, (1+t)/(10+t)); PyTorch 2.x: copy, then d;
    /// timm V3: 0 at the first update, then clamp(1 − (1 + t/γ)^−p, 0, d).</summary>
    static double ReferenceDecay(EmaWarmup warmup, double d, long t, double gamma = 1, double power = 2.0 / 3.0) => warmup switch
    {
        EmaWarmup.NumUpdates => Math.Min(d, (1.0 + t) / (10.0 + t)),
        EmaWarmup.None => t == 0 ? 0 : d,
        _ => t == 0 ? 0 : Math.Max(0, Math.Min(d, 1 - Math.Pow(1 + t / gamma, -power))),
    };

    [Test]
    public void Decay_warmup_values_match_the_formulas()
    {
        using var model = nn.Linear(2, 2);
        using var tf = new ExponentialMovingAverage(model, 0.999, EmaWarmup.NumUpdates);
        Assert.That(tf.DecayAt(0), Is.EqualTo(0.1).Within(1e-15));   // (1+0)/(10+0)
        Assert.That(tf.DecayAt(8), Is.EqualTo(0.5).Within(1e-15));   // 9/18
        Assert.That(tf.DecayAt(100_000), Is.EqualTo(0.999));          // capped by d
        using var plain = new ExponentialMovingAverage(model, 0.9, EmaWarmup.None);
        Assert.That(plain.DecayAt(0), Is.EqualTo(0));
        Assert.That(plain.DecayAt(1), Is.EqualTo(0.9));
        using var power = new ExponentialMovingAverage(model, 0.9999, EmaWarmup.Power);
        Assert.That(power.DecayAt(1), Is.EqualTo(1 - Math.Pow(2, -2.0 / 3.0)).Within(1e-15));
    }

    [TestCase(EmaWarmup.NumUpdates, 0.99)]
    [TestCase(EmaWarmup.None, 0.9)]
    [TestCase(EmaWarmup.Power, 0.95)]
    public void Ema_matches_float64_recursion(EmaWarmup warmup, double decay)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var model = nn.Sequential(("0", nn.Linear(5, 7)), ("1", nn.Tanh()), ("2", nn.Linear(7, 2)));
        var names = model.named_parameters().Select(p => p.name).ToArray();
        var ema = new ExponentialMovingAverage(model, decay, warmup);
        var reference = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().to(ScalarType.Float64));
        for (long t = 0; t < 40; t++)
        {
            using (no_grad())
                foreach (var (_, p) in model.named_parameters()) p.add_(randn_like(p).mul_(0.1)); // a "step"
            ema.Update(model);
            var d = ReferenceDecay(warmup, decay, t);
            foreach (var (name, p) in model.named_parameters())
                reference[name] = reference[name].mul(d).add(p.detach().to(ScalarType.Float64).mul(1 - d));
        }
        Assert.That(ema.Updates, Is.EqualTo(40));
        foreach (var name in names)
        {
            var err = SwaFixture.MaxAbsDiff(ema[name], reference[name]);
            // Each float32 lerp rounds once (ulp(1) = 1.2e-7 on values O(1)) and the error of earlier
            // updates shrinks by d each step: at most ~1/(1 − d) = 100 roundings pile up, 1e-5 bounds it.
            TestContext.Out.WriteLine($"{warmup} {name}: max |Δ| vs float64 {err:E2}");
            Assert.That(err, Is.LessThan(1e-5), $"{name}: {err:E2}");
        }
        ema.Dispose();
    }

    [Test]
    public void UseBuffers_averages_running_statistics_and_copies_num_batches_tracked()
    {
        using var scope = NewDisposeScope();
        var bn = nn.BatchNorm1d(3);
        var model = nn.Sequential(("0", nn.Linear(2, 3)), ("1", bn));
        using var ema = new ExponentialMovingAverage(model, 0.5, EmaWarmup.None, useBuffers: true);
        Assert.That(ema.Names, Does.Contain("1.running_mean").And.Contain("1.num_batches_tracked"));
        model.train();
        model.forward(randn(4, 2));
        ema.Update(model); // first update: a copy
        var first = bn.running_mean!.clone();
        model.forward(randn(4, 2));
        ema.Update(model);
        var expected = first.mul(0.5).add(bn.running_mean!.mul(0.5));
        Assert.That(SwaFixture.MaxAbsDiff(ema["1.running_mean"], expected), Is.LessThan(1e-7)); // one float32 rounding
        Assert.That(ema["1.num_batches_tracked"].item<long>(), Is.EqualTo(2));
    }

    [Test]
    public void Apply_swaps_the_average_in_and_Restore_puts_everything_back()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("0", nn.Linear(3, 4)), ("1", nn.BatchNorm1d(4)));
        using var ema = new ExponentialMovingAverage(model, 0.9);
        for (int i = 0; i < 3; i++)
        {
            using (no_grad()) foreach (var p in model.parameters()) p.add_(1.0);
            ema.Update(model);
        }
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        ema.Apply(model);
        Assert.That(ema.IsApplied, Is.True);
        foreach (var (name, p) in model.named_parameters()) Assert.That(p.SameValues(ema[name]), Is.True, name);
        model.train();
        model.forward(randn(8, 3)); // changes the BN buffers while applied
        ema.Restore(model);
        foreach (var (name, t) in model.state_dict()) Assert.That(t.SameValues(before[name]), Is.True, $"{name} restored");
        Assert.Throws<InvalidOperationException>(() => ema.Restore(model));
    }

    [Test]
    public void Updates_leave_no_live_tensors_behind()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("0", nn.Linear(8, 8)), ("1", nn.BatchNorm1d(8)), ("2", nn.Linear(8, 2)));
        using var ema = new ExponentialMovingAverage(model, 0.99, useBuffers: true);
        using var swa = new StochasticWeightAveraging(model);
        for (int i = 0; i < 3; i++) { ema.Update(model); swa.Update(model); }
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 50; i++) { ema.Update(model); swa.Update(model); }
        Assert.That(DisposeScopeManager.Statistics.ThreadTotalLiveCount, Is.EqualTo(before));
    }

    [Test]
    public void State_dict_resumes_exactly()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var model = nn.Linear(4, 3);
        var steps = Enumerable.Range(0, 12).Select(_ => model.parameters().Select(p => randn_like(p)).ToArray()).ToArray();
        void Set(int i) { using var _ = no_grad(); foreach (var (p, v) in model.parameters().Zip(steps[i])) p.copy_(v); }
        using var whole = new ExponentialMovingAverage(model, 0.97);
        using var first = new ExponentialMovingAverage(model, 0.97);
        using var resumed = new ExponentialMovingAverage(model, 0.97);
        for (int i = 0; i < 12; i++) { Set(i); whole.Update(model); if (i < 5) first.Update(model); }
        resumed.LoadStateDict(first.StateDict());
        Assert.That(resumed.Updates, Is.EqualTo(5));
        for (int i = 5; i < 12; i++) { Set(i); resumed.Update(model); }
        foreach (var name in whole.Names) Assert.That(resumed[name].SameValues(whole[name]), Is.True, name);
    }
}
