using Engine.Data;
using Engine.Regularization;
using Engine.Schedules;
using Engine.Training;
using Engine.Training.Callbacks;

namespace Engine.Tests.Training;

/// <summary>
/// The training run that <see cref="KillAndResumeTests"/> kills and restarts, in a child process
/// (the test assembly started again, see Errors/ChildProcess). A small CNN with Engine's
/// BatchNorm and dropout, seeded augmentation on a shuffled DataLoader with two workers
/// prefetching ahead, AdamW with a per-batch warmup+cosine schedule and gradient accumulation
/// over two batches, 3 epochs of 9 batches; BackupAndRestore saves every optimizer step. Each
/// batch's loss is printed as its exact float bits: "loss epoch batch bits".
/// ENGINE_RESUME_DIR is the run's folder; ENGINE_RESUME_SLOW_WRITE=1 makes every checkpoint
/// write pause part-way, after the optimizer's state (printing "writing step"), so a kill can land mid-write.
/// </summary>
static class ResumeChild
{
    public const string Case = "train-resume";

    public static int Run()
    {
        var dir = Environment.GetEnvironmentVariable("ENGINE_RESUME_DIR") ?? throw new InvalidOperationException("ENGINE_RESUME_DIR is not set");
        torch.set_num_threads(1);
        var trainer = Build(out var loader);
        if (Environment.GetEnvironmentVariable("ENGINE_RESUME_SLOW_WRITE") == "1")
            Engine.Checkpoints.SafeTensors.AfterTensorWritten = name =>
            {
                if (name != "optimizer.state") return; // once per checkpoint, with more to write after it
                Console.WriteLine($"writing {trainer.GlobalStep}");
                Console.Out.Flush();
                Thread.Sleep(150);
            };
        var backup = new BackupAndRestore(Path.Combine(dir, "run.ckpt"), saveEverySteps: 1);
        trainer.Fit(loader, epochs: 3, callbacks: [backup, new PrintLosses()]);
        Console.WriteLine(backup.Restored ? "done (resumed)" : "done");
        return 0;
    }

    sealed class PrintLosses : Callback
    {
        public override void OnBatchEnd(long batch, Tensor loss)
        {
            Console.WriteLine($"loss {Trainer.Epoch} {batch} {BitConverter.SingleToInt32Bits(loss.item<float>()):x8}");
            Console.Out.Flush();
        }
    }

    static Trainer Build(out DataLoader loader)
    {
        manual_seed(3);
        var g = new Generator(17);
        var x = rand(new long[] { 70, 1, 8, 8 }, generator: g);
        var y = randint(0, 4, new long[] { 70 }, generator: g);
        var model = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding: 1), new Engine.Normalization.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), new Dropout(0.25), nn.Linear(4 * 4 * 4, 4));
        var optimizer = new Engine.Optim.AdamW(model.parameters(), lr: 0.01);
        const int batches = 9, accumulation = 2, epochs = 3;
        long steps = epochs * ((batches + accumulation - 1) / accumulation);
        var scheduler = new Scheduler(optimizer, Schedule.WarmupCosine(3, steps), StepEvery.Batch);
        loader = new DataLoader(x, y, 8, generator: new Generator(5), options: new DataLoaderOptions
        {
            Workers = 2,
            Augmentation = BatchTransform.Input(new ImageAugmentation(new AugmentationOptions { HorizontalFlip = 0.5, CropPadding = 1 }, seed: 9)),
        });
        return new Trainer(model, optimizer, (p, t) => nn.functional.cross_entropy(p, t),
            options: new TrainerOptions { Scheduler = scheduler, AccumulationSteps = accumulation });
    }
}
