using Engine.Data;
using Engine.Precision;
using Engine.Tests.Training;
using Engine.Training;
using Engine.Training.Callbacks;
using static Engine.Tests.Training.TrainingData;

namespace Engine.Tests.Precision;

/// <summary>Mixed precision through the Trainer (MixedPrecisionStep): bf16 training tracks fp32
/// training; an fp16 run with a dynamic loss scaler and clipping resumed from a BackupAndRestore
/// checkpoint (masters and scaler included) repeats the uninterrupted run's losses bit for bit.</summary>
[TestFixture]
public class TrainerMixedPrecisionTests
{
    static nn.Module<Tensor, Tensor> Model(long seed)
    {
        manual_seed(seed);
        return nn.Sequential(nn.Linear(In, 32), new Engine.Normalization.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, Classes));
    }

    static List<double> Run(ScalarType? low, int epochs, string? checkpoint = null, long seed = 2, int fromEpochs = 0)
    {
        var (x, y) = Classification(96);
        var model = Model(seed);
        MixedPrecision? mp = low switch
        {
            ScalarType.BFloat16 => MixedPrecision.Bf16(model),
            ScalarType.Float16 => MixedPrecision.Fp16(model, new LossScaler(init_scale: 1024, growth_interval: 3)),
            _ => null,
        };
        var parameters = mp?.MasterParameters ?? model.parameters();
        var optimizer = new Engine.Optim.Adam(parameters, lr: 0.01);
        var recorder = new Recorder();
        var callbacks = new List<Callback> { recorder };
        if (checkpoint is not null) callbacks.Insert(0, new BackupAndRestore(checkpoint));
        var trainer = new Trainer(model, optimizer, CrossEntropy, options: new TrainerOptions
        {
            StepStrategy = mp is null ? null : new MixedPrecisionStep(mp),
            ClipGradNorm = 1.0,
        });
        trainer.Fit(new DataLoader(x, y, 16, generator: new Generator(4)), epochs: epochs, callbacks: callbacks);
        mp?.Dispose();
        return recorder.BatchLosses;
    }

    [Test]
    public void Bf16_training_tracks_fp32_training()
    {
        var fp32 = Run(null, 6);
        var bf16 = Run(ScalarType.BFloat16, 6);
        Assert.That(bf16.Count, Is.EqualTo(fp32.Count));
        // bf16 keeps 8 bits of mantissa (relative error ~4e-3 per op); the losses of a short run on
        // a separable problem stay within a few hundredths of fp32's, while training lowers them by ~1.
        Assert.That(Math.Abs(bf16.TakeLast(6).Average() - fp32.TakeLast(6).Average()), Is.LessThan(0.05));
        Assert.That(bf16.TakeLast(6).Average(), Is.LessThan(bf16.Take(6).Average() - 0.3), "bf16 training lowers the loss");
    }

    [Test]
    public void Fp16_run_resumed_from_a_checkpoint_repeats_the_uninterrupted_losses()
    {
        var dir = Path.Combine(Path.GetTempPath(), "engine-mp-resume-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(dir, "run.ckpt");
            var full = Run(ScalarType.Float16, 4);
            var firstTwo = Run(ScalarType.Float16, 2, path);
            var rest = Run(ScalarType.Float16, 4, path, seed: 77); // other initial weights: all from the file
            Assert.That(firstTwo.Concat(rest).ToList(), Is.EqualTo(full));
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
