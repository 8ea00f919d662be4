using Engine.Averaging;
using Engine.Data;
using Engine.Training;
using Engine.Training.Callbacks;
using static Engine.Tests.Training.TrainingData;

namespace Engine.Tests.Training;

/// <summary>The AveragedWeights callback: its average equals a float64 EMA (or plain mean, for
/// SWA) of the weights the model had after each optimizer step (or epoch), recorded by another
/// callback, and at the end the model holds that average.</summary>
[TestFixture]
public class AveragedWeightsTests
{
    sealed class Snapshots : Callback
    {
        public readonly List<double[]> AfterStep = [], AfterEpoch = [];
        public override void OnBatchEnd(long batch, Tensor loss) => AfterStep.Add(Flat(Trainer.Model));
        public override void OnEpochEnd(int epoch, IReadOnlyDictionary<string, double> logs) => AfterEpoch.Add(Flat(Trainer.Model));
    }

    static double[] Flat(nn.Module m) =>
        m.parameters().SelectMany(p => p.detach().to(ScalarType.Float64).flatten().data<double>().ToArray()).ToArray();

    [Test]
    public void Ema_every_step_equals_a_float64_ema_of_the_recorded_weights()
    {
        var (x, y) = Classification(64);
        var model = Mlp();
        var initial = Flat(model);
        using var ema = new ExponentialMovingAverage(model, decay: 0.8, warmup: EmaWarmup.None);
        var snaps = new Snapshots();
        var trainer = new Trainer(model, torch.optim.SGD(model.parameters(), 0.1), CrossEntropy);
        // Snapshots runs first, so it sees the weights the average takes in the same step.
        trainer.Fit(new DataLoader(x, y, 16, shuffle: false), epochs: 2, callbacks: [snaps, new AveragedWeights(ema)]);

        // PyTorch 2.x get_ema_multi_avg_fn without warmup: the first update copies the model.
        var expected = (double[])snaps.AfterStep[0].Clone();
        foreach (var w in snaps.AfterStep.Skip(1))
            for (int i = 0; i < expected.Length; i++) expected[i] = 0.8 * expected[i] + 0.2 * w[i];
        var actual = Flat(model);
        Assert.That(actual, Is.Not.EqualTo(initial));
        // float32 lerp per step over 8 steps: a few float32 ulps of weights of size ~1.
        for (int i = 0; i < expected.Length; i++) Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-5), $"element {i}");
    }

    [Test]
    public void Swa_per_epoch_from_a_start_epoch_is_the_mean_of_those_epochs_weights()
    {
        var (x, y) = Classification(64);
        var model = Mlp();
        using var swa = new StochasticWeightAveraging(model);
        var snaps = new Snapshots();
        var trainer = new Trainer(model, torch.optim.SGD(model.parameters(), 0.1), CrossEntropy);
        trainer.Fit(new DataLoader(x, y, 16, shuffle: false), epochs: 5, callbacks: [snaps, new AveragedWeights(swa, startEpoch: 2, everyStep: false)]);
        Assert.That(swa.Updates, Is.EqualTo(3));
        var used = snaps.AfterEpoch.Skip(2).ToList();
        var actual = Flat(model);
        for (int i = 0; i < actual.Length; i++)
            Assert.That(actual[i], Is.EqualTo(used.Average(w => w[i])).Within(1e-6), $"element {i}"); // mean of 3 float32 values
    }
}
