using Engine.Averaging;
using Engine.Schedules;

namespace Engine.Tests.Averaging;

/// <summary>StochasticWeightAveraging, SWALR and UpdateBatchNorm against PyTorch 1.13's
/// torch.optim.swa_utils (AveragedModel, SWALR, update_bn): Engine.Tests/Fixtures/swa.json.</summary>
public class SwaPyTorchParityTests
{
    [Test]
    public void Averaged_weights_match_pytorch_averaged_model_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var model = SwaFixture.InitialModel();
        using var swa = new StochasticWeightAveraging(model);
        foreach (var step in SwaFixture.Training.GetProperty("steps").EnumerateArray())
        {
            // Fed PyTorch's own model weights, the average runs the same IEEE ops (subtract, divide by
            // the exact integer n + 1, add), each correctly rounded on any x86-64 CPU: equal bits.
            SwaFixture.CopyParameters(model, step.GetProperty("params"));
            swa.Update(model);
            Assert.That(swa.Updates, Is.EqualTo(step.GetProperty("n_averaged").GetInt64()));
            foreach (var p in step.GetProperty("averaged").EnumerateObject())
                Assert.That(swa[p.Name].SameValues(SwaFixture.F32(p.Value)), Is.True, $"averaged {p.Name} after update {swa.Updates}");
        }
    }

    [Test]
    public void Averaged_weights_and_buffers_match_pytorch_use_buffers_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var model = SwaFixture.InitialModel();
        using var swa = new StochasticWeightAveraging(model, useBuffers: true);
        foreach (var step in SwaFixture.Training.GetProperty("steps").EnumerateArray())
        {
            SwaFixture.CopyParameters(model, step.GetProperty("params"));
            using (no_grad())
            {
                foreach (var (name, b) in model.named_buffers())
                    if (b.is_floating_point()) b.copy_(SwaFixture.F32(step.GetProperty("buffers").GetProperty(name)));
                    else b.fill_(step.GetProperty("num_batches_tracked").GetInt64());
            }
            swa.Update(model);
            // Running statistics averaged by the same IEEE ops as PyTorch's use_buffers=True: equal bits.
            // (PyTorch pushes num_batches_tracked through the float avg_fn and truncates; Engine copies it.)
            foreach (var p in step.GetProperty("averaged_with_buffers").EnumerateObject())
                Assert.That(swa[p.Name].SameValues(SwaFixture.F32(p.Value)), Is.True, $"averaged {p.Name} after update {swa.Updates}");
            Assert.That(swa["1.num_batches_tracked"].item<long>(), Is.EqualTo(step.GetProperty("num_batches_tracked").GetInt64()));
        }
    }

    [Test]
    public void Swalr_learning_rates_match_pytorch_bit_for_bit()
    {
        foreach (var c in SwaFixture.Swalr.EnumerateArray())
        {
            var swaLr = c.GetProperty("swa_lr").GetDouble();
            var anneal = c.GetProperty("strategy").GetString() == "cos" ? SwaAnneal.Cos : SwaAnneal.Linear;
            var schedule = new SWALR(swaLr, c.GetProperty("anneal_epochs").GetInt64(), anneal);
            var expected = c.GetProperty("lrs").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            using var p = new Parameter(zeros(2));
            var sgd = optim.SGD([p], 0.1);
            // PyTorch's case moved the group's lr with StepLR(γ 0.5) first: SWALR anneals from the lr
            // the group holds, not from its initial lr.
            for (int k = 0; k < c.GetProperty("pre_steplr").GetInt32(); k++) sgd.ParamGroups.First().LearningRate *= 0.5;
            var scheduler = schedule.Attach(sgd);
            var lrs = new List<double> { sgd.ParamGroups.First().LearningRate };
            for (int s = 1; s < expected.Length; s++)
            {
                scheduler.Step();
                lrs.Add(sgd.ParamGroups.First().LearningRate);
            }
            // Same double formula in the same order, Math.Cos = glibc's cos as Python's math.cos: equal bits.
            Assert.That(lrs, Is.EqualTo(expected), schedule.ToString());
            if (c.GetProperty("pre_steplr").GetInt32() == 0)
                Assert.That(Enumerable.Range(0, expected.Length).Select(s => schedule.LearningRate(s, 0.1)),
                    Is.EqualTo(expected).Within(1e-15), $"closed form of {schedule}"); // the recursion's rounding, a few ulps
        }
    }

    [Test]
    public void Training_with_swalr_and_swa_follows_pytorch()
    {
        using var scope = NewDisposeScope();
        var model = SwaFixture.InitialModel();
        var batches = SwaFixture.Batches();
        var sgd = optim.SGD(model.parameters(), 0.1, momentum: 0.9);
        var scheduler = new SWALR(0.02, 3, SwaAnneal.Cos).Attach(sgd);
        using var swa = new StochasticWeightAveraging(model);
        double worst = 0, worstAveraged = 0;
        foreach (var step in SwaFixture.Training.GetProperty("steps").EnumerateArray())
        {
            Assert.That(sgd.ParamGroups.First().LearningRate, Is.EqualTo(step.GetProperty("lr").GetDouble()));
            var (x, y) = batches[step.GetProperty("batch").GetInt32()];
            sgd.zero_grad();
            nn.functional.cross_entropy(model.forward(x), y).backward();
            sgd.step();
            swa.Update(model);
            scheduler.Step();
            foreach (var (name, p) in model.named_parameters())
                worst = Math.Max(worst, SwaFixture.MaxAbsDiff(p, SwaFixture.F32(step.GetProperty("params").GetProperty(name))));
            foreach (var name in swa.Names)
                worstAveraged = Math.Max(worstAveraged, SwaFixture.MaxAbsDiff(swa[name], SwaFixture.F32(step.GetProperty("averaged").GetProperty(name))));
        }
        TestContext.Out.WriteLine($"max |Δ| vs PyTorch: weights {worst:E2}, averaged {worstAveraged:E2}");
        // libtorch 2.10 (MKL) and Debian's PyTorch 1.13 (OpenBLAS) sum the float32 products of the
        // linears and BatchNorm's reductions in different orders: a few float32 ulps (6e-8 relative)
        // per op on O(1) values, carried through 6 momentum steps of lr <= 0.1. Measured here 3e-8
        // (weights) and 6e-8 (average); 2e-6 is ~16 ulps of O(1) values, room for other CPUs' kernels,
        // while a wrong lr or averaging step moves the weights by 1e-3 or more.
        Assert.That(worst, Is.LessThan(2e-6));
        Assert.That(worstAveraged, Is.LessThan(2e-6));
    }

    [TestCase(false, TestName = "UpdateBatchNorm_matches_pytorch_update_bn_torchsharp_batchnorm")]
    [TestCase(true, TestName = "UpdateBatchNorm_matches_pytorch_update_bn_engine_batchnorm")]
    public void UpdateBatchNorm_matches_pytorch_update_bn(bool engineBatchNorm)
    {
        using var scope = NewDisposeScope();
        var model = SwaFixture.InitialModel(engineBatchNorm);
        var steps = SwaFixture.Training.GetProperty("steps").EnumerateArray().ToArray();
        SwaFixture.CopyParameters(model, steps[^1].GetProperty("averaged"));
        var batches = SwaFixture.Batches();
        model.eval();
        int updated = StochasticWeightAveraging.UpdateBatchNorm(model, batches.Select(b => (b.X, b.Y)).ToList());
        Assert.That(updated, Is.EqualTo(1));
        var expected = SwaFixture.Training.GetProperty("bn_after_update");
        var (mean, variance, count, momentum) = model.named_modules().Single(m => m.name == "1").module switch
        {
            Engine.Normalization.BatchNorm e => (e.running_mean!, e.running_var!, e.num_batches_tracked!, e.momentum),
            TorchSharp.Modules.BatchNorm t => (t.running_mean!, t.running_var!, t.num_batches_tracked!, t.momentum),
            var other => throw new InvalidOperationException(other.GetType().Name),
        };
        // Statistics of a float32 linear's output over 8 rows: BLAS order differences of a few ulps,
        // averaged over 5 batches; values O(0.05 .. 0.5): 1e-6 absolute is ~20 ulps of headroom.
        var dMean = SwaFixture.MaxAbsDiff(mean, SwaFixture.F32(expected.GetProperty("running_mean")));
        var dVar = SwaFixture.MaxAbsDiff(variance, SwaFixture.F32(expected.GetProperty("running_var")));
        TestContext.Out.WriteLine($"max |Δ| vs PyTorch update_bn: running_mean {dMean:E2}, running_var {dVar:E2}");
        Assert.That(dMean, Is.LessThan(1e-6));
        Assert.That(dVar, Is.LessThan(1e-6));
        Assert.That(count.item<long>(), Is.EqualTo(expected.GetProperty("num_batches_tracked").GetInt64()));
        Assert.That(momentum, Is.EqualTo(expected.GetProperty("momentum").GetDouble()));
        Assert.That(model.training, Is.False, "eval mode restored");
        using var _ = no_grad();
        var output = model.forward(batches[0].X);
        // Eval output through two linears and the BN just checked (σ² down to 0.05 scales errors by ~4.5).
        var dOut = SwaFixture.MaxAbsDiff(output, SwaFixture.F32(SwaFixture.Training.GetProperty("swa_eval_output_batch0")));
        TestContext.Out.WriteLine($"max |Δ| vs PyTorch eval output: {dOut:E2}");
        Assert.That(dOut, Is.LessThan(1e-5));
    }

    [Test]
    public void UpdateBatchNorm_restores_momentum_and_mode_like_pytorch()
    {
        using var scope = NewDisposeScope();
        var bn = nn.BatchNorm1d(4, momentum: 0.3);
        var model = nn.Sequential(("0", nn.Linear(3, 4)), ("1", bn));
        model.eval();
        StochasticWeightAveraging.UpdateBatchNorm(model, Enumerable.Range(0, 3).Select(_ => randn(5, 3)).ToList());
        var expected = SwaFixture.UpdateBnMomentum;
        Assert.That(bn.momentum, Is.EqualTo(expected.GetProperty("momentum").GetDouble()));
        Assert.That(model.training, Is.EqualTo(expected.GetProperty("training").GetBoolean()));
        Assert.That(bn.training, Is.False);
    }
}
