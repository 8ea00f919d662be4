using Engine.Recipe;
using static Engine.Tests.Recipe.RecipeModels;
using InitFns = Engine.Init.Init;

namespace Engine.Tests.Recipe;

/// <summary>Each sanity check passes on a correct small model and fails on the bug it exists to catch.</summary>
public class SanityChecksTests
{
    [Test]
    public void Initial_loss_passes_at_default_init_near_ln_C()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Classification(1);
        using var model = Mlp(1);
        var check = SanityChecks.InitialLoss(model, CrossEntropy, Batches(x, y), LossKind.SoftmaxCrossEntropy);
        Assert.That(check.Passed, Is.True, check.ToString());
        Assert.That(check.Numbers["expected_uniform"], Is.EqualTo(Math.Log(3)).Within(1e-12));
    }

    [Test]
    public void Initial_loss_fails_with_a_final_bias_of_plus_10_on_one_class_and_advises_the_priors_bias()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Classification(2);
        using var model = Mlp(2);
        using (no_grad()) ((TorchSharp.Modules.Linear)model[2]).bias![0] = 10f;
        var check = SanityChecks.InitialLoss(model, CrossEntropy, Batches(x, y), LossKind.SoftmaxCrossEntropy, classes: 3);
        Assert.That(check.Passed, Is.False, check.ToString());
        Assert.That(check.Numbers["loss"], Is.GreaterThan(5));
        Assert.That(check.Advice, Does.Contain("FinalBiasForClassPriors_"));

        // The fix the advice names, with the final weights scaled down: the check passes.
        var fc2 = (TorchSharp.Modules.Linear)model[2];
        InitFns.FinalBiasForClassPriors_(fc2.bias!, InitFns.ClassPriors(y, 3).to(ScalarType.Float32));
        using (no_grad()) fc2.weight!.mul_(0.01);
        Assert.That(SanityChecks.InitialLoss(model, CrossEntropy, Batches(x, y), LossKind.SoftmaxCrossEntropy, classes: 3).Passed, Is.True);
    }

    [Test]
    public void Initial_loss_for_mse_fails_when_targets_have_mean_50_until_the_bias_is_the_mean()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(3);
        var x = randn(64, 4, generator: g);
        var y = randn(64, 1, generator: g).add(50);
        manual_seed(3);
        using var model = nn.Sequential(("fc1", nn.Linear(4, 16)), ("relu", nn.ReLU()), ("fc2", nn.Linear(16, 1)));
        var before = SanityChecks.InitialLoss(model, Mse, Batches(x, y), LossKind.MeanSquaredError);
        Assert.That(before.Passed, Is.False, before.ToString());
        Assert.That(before.Advice, Does.Contain("FinalBiasForRegression_"));
        // expected = population variance of y, from its formula in float64.
        var yd = y.to(ScalarType.Float64);
        Assert.That(before.Numbers["expected_variance"], Is.EqualTo(yd.sub(yd.mean()).square().mean().item<double>()).Within(1e-9));

        var fc2 = (TorchSharp.Modules.Linear)model[2];
        InitFns.FinalBiasForRegression_(fc2.bias!, y);
        using (no_grad()) fc2.weight!.mul_(0.01);
        var after = SanityChecks.InitialLoss(model, Mse, Batches(x, y), LossKind.MeanSquaredError);
        Assert.That(after.Passed, Is.True, after.ToString());
    }

    [Test]
    public void Overfit_one_batch_passes_for_an_mlp_and_leaves_the_model_as_it_was()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Classification(4);
        using var model = Mlp(4);
        var before = Weights(model);
        var check = SanityChecks.OverfitOneBatch(model, CrossEntropy, x, y);
        Assert.That(check.Passed, Is.True, check.ToString());
        Assert.That(check.Numbers["final_loss"], Is.LessThan(0.05 * check.Numbers["initial_loss"]));
        Assert.That(Weights(model), Is.EqualTo(before));
        Assert.That(model.training, Is.True);
    }

    [Test]
    public void Overfit_one_batch_fails_for_a_model_that_ignores_its_input()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Classification(5);
        Assume.That(y.narrow(0, 0, 8).unique().Item1.numel(), Is.GreaterThan(1), "the 8 samples must hold two classes at least");
        using var model = new IgnoresInput(3);
        var check = SanityChecks.OverfitOneBatch(model, CrossEntropy, x, y);
        Assert.That(check.Passed, Is.False, check.ToString());
    }

    [Test]
    public void Overfit_one_batch_fails_with_a_learning_rate_of_0()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Classification(6);
        using var model = Mlp(6);
        var check = SanityChecks.OverfitOneBatch(model, CrossEntropy, x, y, p => optim.SGD(p, 0.0));
        Assert.That(check.Passed, Is.False, check.ToString());
        Assert.That(check.Numbers["final_loss"], Is.EqualTo(check.Numbers["initial_loss"]));
    }

    [Test]
    public void Overfit_one_batch_fails_with_a_detached_loss_and_says_so()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Classification(7);
        using var model = Mlp(7);
        var check = SanityChecks.OverfitOneBatch(model, (o, t) => nn.functional.cross_entropy(o.detach(), t), x, y);
        Assert.That(check.Passed, Is.False);
        Assert.That(check.Advice, Does.Contain("does not require grad"));
    }

    [Test]
    public void Input_independent_baseline_passes_for_an_mlp_and_fails_for_a_model_ignoring_its_input()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Classification(8);
        using var good = Mlp(8);
        var before = Weights(good);
        var pass = SanityChecks.InputIndependentBaseline(good, CrossEntropy, Batches(x, y), p => optim.Adam(p, 1e-2), steps: 60);
        Assert.That(pass.Passed, Is.True, pass.ToString());
        Assert.That(Weights(good), Is.EqualTo(before));

        using var deaf = new IgnoresInput(3);
        var fail = SanityChecks.InputIndependentBaseline(deaf, CrossEntropy, Batches(x, y), p => optim.Adam(p, 1e-2), steps: 60);
        Assert.That(fail.Passed, Is.False, fail.ToString());
        Assert.That(fail.Numbers["ratio"], Is.EqualTo(1.0).Within(1e-6));
    }

    [Test]
    public void Input_independent_baseline_on_held_out_batches_catches_shuffled_labels()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Classification(8, n: 256);
        using var model = Mlp(8);
        var real = SanityChecks.InputIndependentBaseline(model, CrossEntropy, Batches(x, y), p => optim.Adam(p, 1e-2), steps: 120, heldOutBatches: 4);
        Assert.That(real.Passed, Is.True, real.ToString());
        // The planted bug: labels shuffled apart from their inputs. Trained pairs can be memorized,
        // but on the held-out batches real inputs predict no better than zeroed ones.
        var shuffled = y.index_select(0, randperm(y.shape[0], generator: new Generator(3)));
        var caught = SanityChecks.InputIndependentBaseline(model, CrossEntropy, Batches(x, shuffled), p => optim.Adam(p, 1e-2), steps: 120, heldOutBatches: 4);
        TestContext.Out.WriteLine($"{real}\n{caught}");
        Assert.That(caught.Passed, Is.False, caught.ToString());
        Assert.That(caught.Advice, Does.Contain("held-out"));
    }

    [Test]
    public void Batch_independence_passes_for_an_mlp_and_fails_for_a_reshape_that_mixes_samples()
    {
        using var scope = NewDisposeScope();
        var (x, _) = Classification(9);
        using var good = Mlp(9);
        var pass = SanityChecks.BatchIndependence(good, x.narrow(0, 0, 8));
        Assert.That(pass.Passed, Is.True, pass.ToString());
        Assert.That(pass.Numbers["max_leak"], Is.EqualTo(0.0));

        manual_seed(9);
        using var mixing = new MixesBatch(4, 3);
        var fail = SanityChecks.BatchIndependence(mixing, x.narrow(0, 0, 8));
        Assert.That(fail.Passed, Is.False, fail.ToString());
        Assert.That(fail.Advice, Does.Contain("transpose/permute"));
    }

    [Test]
    public void Batch_independence_catches_batchnorm_in_train_mode_only_and_restores_its_running_stats()
    {
        using var scope = NewDisposeScope();
        var (x, _) = Classification(10);
        manual_seed(10);
        using var model = nn.Sequential(("fc1", nn.Linear(4, 16)), ("bn", nn.BatchNorm1d(16)), ("relu", nn.ReLU()), ("fc2", nn.Linear(16, 3)));
        var before = Weights(model);
        var eval = SanityChecks.BatchIndependence(model, x.narrow(0, 0, 8));
        Assert.That(eval.Passed, Is.True, eval.ToString());
        var train = SanityChecks.BatchIndependence(model, x.narrow(0, 0, 8), trainMode: true);
        Assert.That(train.Passed, Is.False, train.ToString());
        Assert.That(train.Advice, Does.Contain("BatchNorm"));
        Assert.That(Weights(model), Is.EqualTo(before), "running mean/var and num_batches_tracked restored");
    }

    [Test]
    public void Batch_independence_refuses_integer_inputs_and_a_batch_of_one_with_a_clear_message()
    {
        using var scope = NewDisposeScope();
        using var model = Mlp(11);
        Assert.That(() => SanityChecks.BatchIndependence(model, ones(8, 4, ScalarType.Int64)), Throws.ArgumentException.With.Message.Contains("floating-point"));
        Assert.That(() => SanityChecks.BatchIndependence(model, ones(1, 4)), Throws.ArgumentException.With.Message.Contains("at least 2"));
    }

    [Test]
    public void Inspect_batch_gives_per_channel_statistics_and_flags_raw_pixels()
    {
        using var scope = NewDisposeScope();
        var g = new Generator(12);
        var images = randint(0, 256, [6, 3, 5, 5], generator: g).to(ScalarType.Float32);
        var labels = tensor(new long[] { 0, 1, 1, 2, 2, 2 });
        Tensor? shown = null;
        var check = SanityChecks.InspectBatch(images, labels, classes: 4, showBatch: (i, _) => shown = i.clone());
        Assert.That(check.Passed, Is.False, check.ToString());
        Assert.That(check.Advice, Does.Contain("unscaled"));
        Assert.That(shown, Is.Not.Null);
        // Channel 1's statistics against a float64 formula over that channel's values.
        var c1 = images.to(ScalarType.Float64).select(1, 1).flatten();
        double mean = c1.sum().item<double>() / c1.numel();
        double std = Math.Sqrt(c1.sub(mean).square().sum().item<double>() / c1.numel());
        Assert.That(check.Numbers["input.c1.mean"], Is.EqualTo(mean).Within(1e-9));
        Assert.That(check.Numbers["input.c1.std"], Is.EqualTo(std).Within(1e-9));
        Assert.That(check.Numbers["input.c1.max"], Is.EqualTo(c1.max().item<double>()));
        Assert.That(new[] { check.Numbers["label.0"], check.Numbers["label.1"], check.Numbers["label.2"], check.Numbers["label.3"] }, Is.EqualTo(new[] { 1.0, 2, 3, 0 }));

        var scaled = SanityChecks.InspectBatch(images.div(255).sub(0.5).div(0.29), labels, classes: 4);
        Assert.That(scaled.Passed, Is.True, scaled.ToString());
    }

    [Test]
    public void Run_reports_all_five_checks_passing_for_a_correct_mlp_and_restores_it()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Classification(13);
        using var model = Mlp(13);
        var before = Weights(model);
        var report = SanityChecks.Run(model, CrossEntropy, Batches(x, y), new SanityOptions { Classes = 3, Optimizer = p => optim.Adam(p, 1e-2), BaselineSteps = 60 });
        TestContext.Out.WriteLine(report);
        Assert.That(report.Checks.Select(c => c.Name), Is.EqualTo(new[] { "inspect batch", "initial loss", "overfit one batch", "input-independent baseline", "batch independence" }));
        Assert.That(report.Passed, Is.True, report.ToString());
        Assert.That(Weights(model), Is.EqualTo(before));
    }

    [Test]
    public void Run_works_over_engines_shuffling_data_loader_which_disposes_its_batches()
    {
        using var scope = NewDisposeScope();
        var (x, y) = Classification(14, n: 96);
        using var model = Mlp(14);
        var loader = new Engine.Data.DataLoader(x, y, 16, shuffle: true, generator: new Generator(14));
        var report = SanityChecks.Run(model, CrossEntropy, loader, new SanityOptions { Classes = 3, Optimizer = p => optim.Adam(p, 1e-2), BaselineSteps = 60 });
        Assert.That(report.Passed, Is.True, report.ToString());
        Assert.That(report.FirstBatch!.InputShape, Is.EqualTo(new long[] { 16, 4 }));

        using var sgd = optim.SGD(model.parameters(), 0.1);
        var lr = LearningRateFinder.Run(model, sgd, CrossEntropy, loader, new LrFinderOptions { Steps = 20 });
        Assert.That(lr.LearningRates.Count, Is.GreaterThan(6), "cycles over the 6-batch epoch");
    }

    [Test]
    public void Run_and_the_range_test_leave_no_live_tensors_behind()
    {
        var (x, y) = Classification(15);
        var batches = Batches(x, y);
        using var model = Mlp(15);
        using var sgd = optim.SGD(model.parameters(), 0.1);
        var options = new SanityOptions { Classes = 3, OverfitSteps = 30, BaselineSteps = 10 };
        SanityChecks.Run(model, CrossEntropy, batches, options);
        LearningRateFinder.Run(model, sgd, CrossEntropy, batches, new LrFinderOptions { Steps = 10 });
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        SanityChecks.Run(model, CrossEntropy, batches, options);
        long afterRun = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        LearningRateFinder.Run(model, sgd, CrossEntropy, batches, new LrFinderOptions { Steps = 10 });
        long afterLr = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var snap = StateSnapshot.Capture(model, sgd)) snap.Restore();
        long afterSnap = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        TestContext.Out.WriteLine($"before {before} run {afterRun} lr {afterLr} snapshot {afterSnap}");
        Assert.That(afterRun, Is.EqualTo(before));
        Assert.That(afterLr, Is.EqualTo(before));
        Assert.That(afterSnap, Is.EqualTo(before));
    }
}
