using Engine.Checkpoints;
using Engine.Losses;
using Engine.Optim;
using Engine.Schedules;

namespace Engine.Tests;

/// <summary>The README's example, as written there: a user's existing TorchSharp nn.Sequential
/// trained with an Engine optimizer, loss and schedule, then checkpointed; it runs and learns.</summary>
public class ReadmeExampleTests
{
    [Test]
    public void The_readme_training_loop_runs_and_learns()
    {
        manual_seed(0);
        using var data = NewDisposeScope();
        var inputs = randn(512, 784);
        var labels = inputs.narrow(1, 0, 10).argmax(1);   // a learnable rule
        var path = Path.Combine(Path.GetTempPath(), $"readme-{Guid.NewGuid():N}.safetensors");
        double first = double.NaN, last = double.NaN;
        (Tensor, Tensor) NextBatch(int step) => (inputs.narrow(0, step % 8 * 64, 64), labels.narrow(0, step % 8 * 64, 64));

        // ---- as in README.md ----
        var model = nn.Sequential(("fc1", nn.Linear(784, 256)), ("relu", nn.ReLU()), ("fc2", nn.Linear(256, 10)));
        using var optimizer = new AdamW(ParamGroupSpec.WeightDecaySplit(model, 0.05), lr: 1e-3);
        var scheduler = Schedule.WarmupCosine(warmupSteps: 10, totalSteps: 100).Attach(optimizer, StepEvery.Batch);
        for (int step = 0; step < 100; step++)
        {
            using var scope = NewDisposeScope();                 // the step's temporaries die here
            var (x, y) = NextBatch(step);
            optimizer.zero_grad();
            var loss = Loss.CrossEntropy(model.forward(x), y);
            loss.backward();
            optimizer.step();
            scheduler.Step();
            // ---- (the test records the loss) ----
            if (step == 0) first = loss.item<float>();
            if (step == 99) last = loss.item<float>();
        }
        model.SaveSafeTensors(path);                            // loads in Python with safetensors.torch.load_file
        // ---- end of the README code ----

        try
        {
            Assert.That(last, Is.LessThan(first * 0.5));
            Assert.That(optimizer.Groups[0].LearningRate, Is.LessThan(1e-4), "the cosine ran down");
            var copy = nn.Sequential(("fc1", nn.Linear(784, 256)), ("relu", nn.ReLU()), ("fc2", nn.Linear(256, 10)));
            copy.LoadSafeTensors(path);
            using var scope = NewDisposeScope();
            Assert.That(copy.forward(inputs).sub(model.forward(inputs)).abs().max().item<float>(), Is.EqualTo(0f), "the reloaded model computes the same, bit for bit");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void The_readme_trainer_example_runs_and_learns()
    {
        manual_seed(0);
        var inputs = randn(512, 784);
        var labels = inputs.narrow(1, 0, 10).argmax(1);   // a learnable rule
        var model = nn.Sequential(("fc1", nn.Linear(784, 256)), ("relu", nn.ReLU()), ("fc2", nn.Linear(256, 10)));
        using var optimizer = new AdamW(ParamGroupSpec.WeightDecaySplit(model, 0.05), lr: 1e-3);
        var scheduler = Schedule.WarmupCosine(warmupSteps: 10, totalSteps: 24).Attach(optimizer, StepEvery.Batch);
        var dir = Path.Combine(Path.GetTempPath(), $"readme-trainer-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var cwd = Environment.CurrentDirectory;
        Environment.CurrentDirectory = dir; // the example writes run.ckpt and log.csv beside it
        try
        {
            // ---- as in README.md ----
            var loader = new Engine.Data.DataLoader(inputs, labels, batchSize: 64, generator: new Generator(0));   // reshuffled every epoch
            var trainer = new Engine.Training.Trainer(model, optimizer, (p, y) => Loss.CrossEntropy(p, y), metrics: [new Engine.Training.Metrics.Accuracy()],
                options: new Engine.Training.TrainerOptions { Scheduler = scheduler, ClipGradNorm = 1.0 });
            var history = trainer.Fit(loader, validation: loader, epochs: 3, callbacks:
            [
                new Engine.Training.Callbacks.EarlyStopping("val_loss", patience: 2, restoreBestWeights: true),
                new Engine.Training.Callbacks.BackupAndRestore("run.ckpt", saveEverySteps: 50),     // killed and restarted, it continues exactly
                new Engine.Training.Callbacks.CsvLogger("log.csv"),
            ]);
            Console.WriteLine(history["val_accuracy"][^1]);
            // ---- end of the README code ----
            Assert.That(history["val_accuracy"][^1], Is.GreaterThan(history["val_accuracy"][0]));
            Assert.That(history["val_loss"][^1], Is.LessThan(history["val_loss"][0]));
            Assert.That(File.ReadAllLines(Path.Combine(dir, "log.csv")), Has.Length.EqualTo(4), "header and 3 epochs");
        }
        finally
        {
            Environment.CurrentDirectory = cwd;
            Directory.Delete(dir, true);
        }
    }
}
