using Engine.Checkpoints;
using Engine.Nn;
using Engine.Optim;
using Engine.Schedules;

namespace Engine.Tests;

/// <summary>The README's training example, as written there, runs and learns.</summary>
public class ReadmeExampleTests
{
    [Test]
    public void The_readme_training_loop_runs_and_learns()
    {
        Torch.ManualSeed(0);
        using var data = DisposeScope.Begin();
        var inputs = Torch.Randn(512, 784);
        var labels = inputs.Narrow(1, 0, 10).Argmax(1);   // a learnable rule
        var path = Path.Combine(Path.GetTempPath(), $"readme-{Guid.NewGuid():N}.safetensors");
        double first = double.NaN, last = double.NaN;

        // ---- as in README.md ----
        using var model = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10));
        using var optimizer = new AdamW(ParamGroupSpec.WeightDecaySplit(model, 0.05), lr: 1e-3);
        var scheduler = Schedule.WarmupCosine(warmupSteps: 10, totalSteps: 100).Attach(optimizer, StepEvery.Batch);
        for (int step = 0; step < 100; step++)
        {
            using var scope = DisposeScope.Begin();
            var x = inputs.Narrow(0, step % 8 * 64, 64);
            var y = labels.Narrow(0, step % 8 * 64, 64);
            optimizer.ZeroGrad();
            var loss = Functional.CrossEntropy(model.Call(x), y);
            loss.Backward();
            optimizer.Step();
            scheduler.Step();
            // ---- (the test records the loss) ----
            if (step == 0) first = loss.Item<double>();
            if (step == 99) last = loss.Item<double>();
        }
        model.SaveSafeTensors(path);
        // ---- end of the README code ----

        try
        {
            Assert.That(last, Is.LessThan(first * 0.5));
            Assert.That(optimizer.ParamGroups[0].LearningRate, Is.LessThan(1e-4), "the cosine ran down");
            using var copy = new Sequential(new Linear(784, 256), new ReLU(), new Linear(256, 10));
            copy.LoadSafeTensors(path);
            using var scope = DisposeScope.Begin();
            Assert.That(copy.Call(inputs).Equal(model.Call(inputs)), Is.True);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
