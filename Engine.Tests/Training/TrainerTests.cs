using Engine.Data;
using Engine.Schedules;
using Engine.Training;
using Engine.Training.Callbacks;
using Engine.Training.Metrics;
using static Engine.Tests.Training.TrainingData;

namespace Engine.Tests.Training;

[TestFixture]
public class TrainerTests
{
    static (Tensor, Tensor)[] Split(Tensor x, Tensor y, params int[] sizes)
    {
        var list = new List<(Tensor, Tensor)>();
        long start = 0;
        foreach (var s in sizes) { list.Add((x.narrow(0, start, s), y.narrow(0, start, s))); start += s; }
        return list.ToArray();
    }

    [Test]
    public void Accumulating_four_micro_batches_equals_one_batch_four_times_larger_float64()
    {
        var (x, y) = Classification(64, dtype: ScalarType.Float64);
        History Train(int batch, int k, out nn.Module<Tensor, Tensor> model, out Trainer t)
        {
            model = Mlp(dtype: ScalarType.Float64);
            var opt = torch.optim.SGD(model.parameters(), 0.1, momentum: 0.9);
            t = new Trainer(model, opt, CrossEntropy, options: new() { AccumulationSteps = k });
            return t.Fit(new DataLoader(x, y, batch, shuffle: false), epochs: 3);
        }
        var hA = Train(8, 4, out var a, out var ta);
        var hB = Train(32, 1, out var b, out var tb);
        Assert.That(ta.GlobalStep, Is.EqualTo(6));
        Assert.That(tb.GlobalStep, Is.EqualTo(6));
        // float64; the micro-batches sum their gradients in another order than one batch: ulps.
        AssertSameWeights(Weights(a), Weights(b), 1e-12);
        Assert.That(hA["loss"][2], Is.EqualTo(hB["loss"][2]).Within(1e-12));
    }

    [Test]
    public void A_short_last_accumulation_group_is_divided_by_its_own_length()
    {
        var (x, y) = Classification(40, dtype: ScalarType.Float64);
        var a = Mlp(dtype: ScalarType.Float64);
        var ta = new Trainer(a, torch.optim.SGD(a.parameters(), 0.2), CrossEntropy, options: new() { AccumulationSteps = 2 });
        ta.Fit(new ListSource(Split(x, y, 8, 8, 8, 8, 8)), epochs: 2);
        var b = Mlp(dtype: ScalarType.Float64);
        var tb = new Trainer(b, torch.optim.SGD(b.parameters(), 0.2), CrossEntropy);
        tb.Fit(new ListSource(Split(x, y, 16, 16, 8)), epochs: 2);
        Assert.That(ta.GlobalStep, Is.EqualTo(6));
        AssertSameWeights(Weights(a), Weights(b), 1e-12); // float64, summation order only
    }

    static List<double> SeededRun(long seed, bool dryRun = true)
    {
        var (x, y) = Classification(96);
        var model = Mlp(dropout: 0.3);
        var rec = new Recorder();
        var t = new Trainer(model, torch.optim.Adam(model.parameters(), 0.01), CrossEntropy,
            options: new() { Seed = seed, DryRun = dryRun });
        t.Fit(new DataLoader(x, y, 16, shuffle: true, generator: new Generator(5)), epochs: 3, callbacks: [rec]);
        return rec.BatchLosses;
    }

    [Test]
    public void Two_seeded_runs_give_bit_identical_losses_and_another_seed_does_not()
    {
        var first = SeededRun(11);
        var second = SeededRun(11);
        Assert.That(second, Is.EqualTo(first)); // exact: same ops, same order, same draws
        Assert.That(SeededRun(12), Is.Not.EqualTo(first));
    }

    [Test]
    public void The_dry_run_consumes_no_random_numbers_the_run_uses()
    {
        // Dropout draws from the global generator, shuffling from the loader's: both would shift.
        Assert.That(SeededRun(11, dryRun: true), Is.EqualTo(SeededRun(11, dryRun: false)));
    }

    sealed class Probe() : nn.Module<Tensor, Tensor>("probe")
    {
        public readonly List<(bool Training, bool Grad)> Seen = [];
        public override Tensor forward(Tensor x)
        {
            Seen.Add((training, is_grad_enabled()));
            return x.alias();
        }
    }

    [Test]
    public void Training_runs_in_train_mode_with_grad_and_evaluation_in_eval_mode_under_no_grad()
    {
        var (x, y) = Classification(32);
        var probe = new Probe();
        var model = nn.Sequential(("probe", probe), ("fc", nn.Linear(In, Classes)));
        var t = new Trainer(model, torch.optim.SGD(model.parameters(), 0.1), CrossEntropy);
        t.Fit(new DataLoader(x, y, 8, shuffle: false), new DataLoader(x, y, 16, shuffle: false), epochs: 1);
        var expected = new List<(bool, bool)> { (false, false) };               // dry run
        expected.AddRange(Enumerable.Repeat((true, true), 4));                 // training batches
        expected.AddRange(Enumerable.Repeat((false, false), 2));               // validation batches
        Assert.That(probe.Seen, Is.EqualTo(expected));
        Assert.That(model.training, Is.True);
        probe.Seen.Clear();
        t.Predict(new DataLoader(x, y, 32, shuffle: false)).Dispose();
        Assert.That(probe.Seen, Is.EqualTo(new[] { (false, false) }));
    }

    [Test]
    public void Clipping_by_norm_matches_a_hand_written_loop_with_torchsharps_clip_grad_norm()
    {
        var (x, y) = Classification(32);
        var a = Mlp();
        var ta = new Trainer(a, torch.optim.SGD(a.parameters(), 0.5), CrossEntropy, options: new() { ClipGradNorm = 0.05 });
        ta.Fit(new DataLoader(x, y, 8, shuffle: false), epochs: 2);

        var b = Mlp();
        var opt = torch.optim.SGD(b.parameters(), 0.5);
        for (int e = 0; e < 2; e++)
            for (int i = 0; i < 4; i++)
            {
                using var scope = NewDisposeScope();
                opt.zero_grad();
                nn.functional.cross_entropy(b.forward(x.narrow(0, 8 * i, 8)), y.narrow(0, 8 * i, 8)).backward();
                nn.utils.clip_grad_norm_(b.parameters(), 0.05);
                opt.step();
            }
        // The total norm may be summed in another order (float32 ulps of the scale factor).
        AssertSameWeights(Weights(a), Weights(b), 1e-6);
    }

    [Test]
    public void Clipping_by_value_bounds_every_sgd_update_by_lr_times_the_clip()
    {
        var (x, y) = Classification(32);
        var model = Mlp();
        var before = Weights(model);
        var t = new Trainer(model, torch.optim.SGD(model.parameters(), 1.0), CrossEntropy, options: new() { ClipGradValue = 1e-3 });
        t.Fit(new DataLoader(x, y, 32, shuffle: false), epochs: 1); // one step
        var after = Weights(model);
        double maxDelta = after.Keys.Max(k => (after[k] - before[k]).abs().max().item<float>());
        // Δw = −lr·clamp(g, ±1e-3); float32 subtraction rounds Δ by an ulp of w (≤ 6e-8 for |w| < 1).
        Assert.That(maxDelta, Is.LessThanOrEqualTo(1e-3 + 1e-7));
        Assert.That(maxDelta, Is.GreaterThan(1e-3 - 1e-7), "some gradient element exceeds the clip");
    }

    [Test]
    public void Engine_and_torchsharp_schedulers_step_per_batch_or_per_epoch()
    {
        var (x, y) = Classification(64);
        double Lr(torch.optim.Optimizer o) => o.ParamGroups.First().LearningRate;

        var m1 = Mlp();
        var o1 = torch.optim.SGD(m1.parameters(), 0.1);
        var t1 = new Trainer(m1, o1, CrossEntropy, options: new() { Scheduler = new Scheduler(o1, new Engine.Schedules.StepLR(2, 0.5), StepEvery.Batch) });
        t1.Fit(new DataLoader(x, y, 8, shuffle: false), epochs: 1); // 8 optimizer steps
        Assert.That(Lr(o1), Is.EqualTo(0.1 * Math.Pow(0.5, 4)).Within(1e-15));

        var m2 = Mlp();
        var o2 = torch.optim.SGD(m2.parameters(), 0.1);
        var t2 = new Trainer(m2, o2, CrossEntropy, options: new() { Scheduler = new Scheduler(o2, new Engine.Schedules.StepLR(1, 0.5), StepEvery.Epoch) });
        var h2 = t2.Fit(new DataLoader(x, y, 8, shuffle: false), epochs: 3);
        Assert.That(h2["lr"], Is.EqualTo(new[] { 0.1, 0.05, 0.025 }).Within(1e-15));
        Assert.That(Lr(o2), Is.EqualTo(0.0125).Within(1e-15));

        var m3 = Mlp();
        var o3 = torch.optim.SGD(m3.parameters(), 0.1);
        var t3 = new Trainer(m3, o3, CrossEntropy, options: new() { TorchScheduler = torch.optim.lr_scheduler.StepLR(o3, 1, 0.5) });
        t3.Fit(new DataLoader(x, y, 8, shuffle: false), epochs: 3);
        Assert.That(Lr(o3), Is.EqualTo(0.0125).Within(1e-15));

        var m4 = Mlp();
        var o4 = torch.optim.SGD(m4.parameters(), 0.1);
        var t4 = new Trainer(m4, o4, CrossEntropy, options: new() { TorchScheduler = torch.optim.lr_scheduler.StepLR(o4, 2, 0.5), TorchSchedulerEvery = StepEvery.Batch });
        t4.Fit(new DataLoader(x, y, 8, shuffle: false), epochs: 1);
        Assert.That(Lr(o4), Is.EqualTo(0.1 * Math.Pow(0.5, 4)).Within(1e-15));
    }

    [Test]
    public void Evaluate_and_predict_match_the_model_on_the_whole_set()
    {
        var (x, y) = Classification(35);
        var model = Mlp();
        var t = new Trainer(model, torch.optim.SGD(model.parameters(), 0.1), CrossEntropy, [new Accuracy()]);
        var logs = t.Evaluate(new DataLoader(x, y, 10, shuffle: false)); // batches 10, 10, 10, 5
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var logits = model.forward(x);
        var reference = nn.functional.cross_entropy(logits.to(ScalarType.Float64), y).item<double>();
        // Per-batch float32 losses averaged in float64 against one float64 loss: float32 rounding.
        Assert.That(logs["loss"], Is.EqualTo(reference).Within(1e-6));
        var predicted = logits.argmax(1);
        double correct = 0;
        for (int i = 0; i < 35; i++) if (predicted[i].item<long>() == y[i].item<long>()) correct++;
        Assert.That(logs["accuracy"], Is.EqualTo(correct / 35));
        var p = t.Predict(new DataLoader(x, y, 10, shuffle: false));
        Assert.That(p.shape, Is.EqualTo(new long[] { 35, Classes }));
        Assert.That((p - logits).abs().max().item<float>(), Is.LessThan(1e-6f)); // BLAS blocking may differ by batch size
    }

    [Test]
    public void A_monitor_no_metric_provides_fails_before_the_first_epoch_listing_the_names()
    {
        var (x, y) = Classification(32);
        var model = Mlp();
        int losses = 0;
        var t = new Trainer(model, torch.optim.SGD(model.parameters(), 0.1), (p, q) => { losses++; return CrossEntropy(p, q); }, [new Accuracy()]);
        var rec = new Recorder();
        var loader = new DataLoader(x, y, 8);
        var e = Assert.Throws<ArgumentException>(() => t.Fit(loader, loader, 2, [rec, new EarlyStopping("val_acc")]));
        Assert.That(e!.Message, Does.Contain("'val_acc'").And.Contain("val_accuracy").And.Contain("EarlyStopping"));
        e = Assert.Throws<ArgumentException>(() => t.Fit(loader, null, 2, [new ModelCheckpoint("x.safetensors", "val_loss", saveBestOnly: true)]));
        Assert.That(e!.Message, Does.Contain("need validation data"));
        Assert.That((losses, rec.TrainBegins, t.Epoch), Is.EqualTo((0, 0, 0)));
    }

    sealed class LiveCount : Callback
    {
        public readonly List<long> Counts = [];
        public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) =>
            Counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Test]
    public void Two_thousand_steps_do_not_grow_the_live_tensor_count()
    {
        int threads = get_num_threads();
        Ops.SetNumThreads(1); // tiny ops: a second intra-op thread only costs (see LeakTests)
        try
        {
            var (x, y) = Classification(128);
            var model = Mlp(dropout: 0.1);
            var opt = torch.optim.Adam(model.parameters(), 1e-3);
            var t = new Trainer(model, opt, CrossEntropy, [new Accuracy(), new PrecisionRecall(Classes)],
                new() { AccumulationSteps = 2, ClipGradNorm = 1.0, Scheduler = new Scheduler(opt, new Engine.Schedules.StepLR(100, 0.9), StepEvery.Batch) });
            var live = new LiveCount();
            var loader = new DataLoader(x, y, 4, shuffle: true, generator: new Generator(3));
            var val = new DataLoader(x, y, 64, shuffle: false);
            t.Fit(loader, val, 66, [live, new TerminateOnNaN(), new EarlyStopping("val_loss", patience: 1000, restoreBestWeights: true)]);
            Assert.That(t.GlobalStep * 2, Is.EqualTo(66 * 32)); // 2,112 micro-batches
            // After the first epochs (optimizer state made), every epoch ends with the same live count.
            var settled = live.Counts.Skip(2).ToArray();
            Assert.That(settled.Distinct().Count(), Is.EqualTo(1), string.Join(", ", live.Counts));
        }
        finally { Ops.SetNumThreads(threads); }
    }
}

[TestFixture]
public class TrainerPiecesTests
{
    [Test]
    public void A_hand_written_loop_of_train_steps_and_metrics_equals_fit()
    {
        var (x, y) = Classification(48);
        var a = Mlp();
        var ta = new Trainer(a, torch.optim.SGD(a.parameters(), 0.1, momentum: 0.9), CrossEntropy, [new Accuracy()],
            new() { AccumulationSteps = 2, DryRun = false });
        var h = ta.Fit(new DataLoader(x, y, 8, shuffle: false), epochs: 2);

        var b = Mlp();
        var tb = new Trainer(b, torch.optim.SGD(b.parameters(), 0.1, momentum: 0.9), CrossEntropy, options: new() { AccumulationSteps = 2 });
        using var acc = new Accuracy();
        var loss = new Mean("loss");
        for (int epoch = 0; epoch < 2; epoch++)
        {
            acc.Reset();
            loss.Reset();
            foreach (var (xb, yb) in new DataLoader(x, y, 8, shuffle: false))
            {
                using var scope = NewDisposeScope();
                var step = tb.TrainStep(xb, yb, accumulationCount: 2);
                acc.Update(step.Prediction, step.Target);
                loss.Update(step.Loss, xb.shape[0]);
            }
        }
        AssertSameWeights(Weights(a), Weights(b)); // the same calls in the same order: exact
        Assert.That(acc.Compute()["accuracy"], Is.EqualTo(h["accuracy"][1]));
        Assert.That(loss.Compute()["loss"], Is.EqualTo(h["loss"][1]));
        Assert.That(tb.GlobalStep, Is.EqualTo(ta.GlobalStep));
    }

    [Test]
    public void An_engine_reduce_lr_on_plateau_in_the_options_steps_on_the_scheduler_monitor()
    {
        var model = Mlp();
        var opt = torch.optim.SGD(model.parameters(), 0.1);
        var t = new Trainer(model, opt, CrossEntropy, [new Scripted("score", 1, 1, 1)],
            new() { Scheduler = new Engine.Schedules.ReduceLROnPlateau(opt, factor: 0.5, patience: 0), SchedulerMonitor = "score" });
        var (x, y) = Classification(16);
        var h = t.Fit(new DataLoader(x, y, 8), epochs: 3);
        // PyTorch's rule with patience 0: the first value sets best, every later equal value reduces.
        Assert.That(h["lr"], Is.EqualTo(new[] { 0.1, 0.1, 0.05 }).Within(1e-15));
        Assert.That(opt.ParamGroups.First().LearningRate, Is.EqualTo(0.025).Within(1e-15));
    }

    [Test]
    public void Fit_continues_from_a_set_epoch_and_global_step()
    {
        var model = Mlp();
        var t = new Trainer(model, torch.optim.SGD(model.parameters(), 0.1), CrossEntropy) { Epoch = 2, GlobalStep = 10 };
        var (x, y) = Classification(16);
        var h = t.Fit(new DataLoader(x, y, 8), epochs: 4);
        Assert.That(h.Epochs, Is.EqualTo(new[] { 2, 3 }));
        Assert.That((t.Epoch, t.GlobalStep), Is.EqualTo((4, 14L)));
        Assert.Throws<KeyNotFoundException>(() => _ = h["val_loss"]);
    }

    [Test]
    public void Bad_options_fail_when_the_trainer_is_built()
    {
        var model = Mlp();
        var opt = torch.optim.SGD(model.parameters(), 0.1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, opt, CrossEntropy, options: new() { AccumulationSteps = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, opt, CrossEntropy, options: new() { ClipGradNorm = -1 }));
        Assert.Throws<ArgumentException>(() => new Trainer(model, opt, CrossEntropy, [new Accuracy(), new Accuracy()]));
    }
}
