using Engine.Checkpoints;
using Engine.Optim;

namespace Engine.Tests.Checkpoints;

/// <summary>
/// A training checkpoint resumes exactly: a run stopped after k steps and resumed from its
/// checkpoint in a fresh model and optimizer (different initial weights, fresh RNG) produces the
/// same losses, bit for bit, as the run that never stopped. The model has BatchNorm (running
/// statistics are buffers), dropout (draws from torch's CPU generator) and AdamW (moments and the
/// step count), so each piece of state must come back. A checkpoint of another model or
/// optimizer is refused before anything changes.
/// </summary>
public class TrainingCheckpointTests
{
    string _dir = "";

    [SetUp]
    public void CreateFolder()
    {
        _dir = Path.Combine(Path.GetTempPath(), "engine-training-checkpoint-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
    }

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    static nn.Module<Tensor, Tensor> Model(int hidden = 16) => nn.Sequential(
        nn.Linear(8, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.3), nn.Linear(hidden, 3));

    static (Tensor X, Tensor Y)[] Batches(int count)
    {
        var g = new Generator(11);
        return Enumerable.Range(0, count)
            .Select(_ => (randn(new long[] { 32, 8 }, generator: g), randint(0, 3, new long[] { 32 }, generator: g)))
            .ToArray();
    }

    static float Step(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, (Tensor X, Tensor Y) batch)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        var loss = nn.functional.cross_entropy(model.call(batch.X), batch.Y);
        loss.backward();
        optimizer.step();
        return loss.item<float>();
    }

    [Test]
    public void Resumed_run_repeats_the_uninterrupted_losses_bit_for_bit()
    {
        var batches = Batches(12);
        const int stopAt = 5;
        var path = Path.Combine(_dir, "run.ckpt");

        manual_seed(1);
        var model = Model();
        var optimizer = new AdamW(model.parameters(), lr: 0.01);
        model.train();
        var uninterrupted = new List<float>();
        for (int i = 0; i < batches.Length; i++)
        {
            uninterrupted.Add(Step(model, optimizer, batches[i]));
            if (i + 1 == stopAt)
            {
                using var extra = new TrainingCheckpoint { Epoch = 0, Step = stopAt };
                extra.Values["note"] = "{\"batch\": 5}";
                extra.Tensors["loader"] = arange(4);
                TrainingCheckpoint.Save(path, model, optimizer, extra);
            }
        }

        manual_seed(99); // a different start: everything must come from the file
        var resumedModel = Model();
        var resumedOptimizer = new AdamW(resumedModel.parameters(), lr: 0.01);
        resumedModel.train();
        using var state = TrainingCheckpoint.Load(path, resumedModel, resumedOptimizer);
        Assert.That(state.Step, Is.EqualTo(stopAt));
        Assert.That(state.Values["note"], Is.EqualTo("{\"batch\": 5}"));
        Assert.That(state.Tensors["loader"].data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 2, 3 }));
        var resumed = new List<float>();
        for (int i = stopAt; i < batches.Length; i++) resumed.Add(Step(resumedModel, resumedOptimizer, batches[i]));

        Assert.That(resumed, Is.EqualTo(uninterrupted.Skip(stopAt).ToList()), "every loss after the resume equals the uninterrupted run's exactly");
    }

    [Test]
    public void A_checkpoint_of_another_model_is_refused_and_nothing_changes()
    {
        var path = Path.Combine(_dir, "other.ckpt");
        manual_seed(1);
        var model = Model(hidden: 16);
        var optimizer = new AdamW(model.parameters(), lr: 0.01);
        Step(model, optimizer, Batches(1)[0]);
        using (var state = new TrainingCheckpoint { Step = 1 }) TrainingCheckpoint.Save(path, model, optimizer, state);

        var other = Model(hidden: 12);
        var otherOptimizer = new AdamW(other.parameters(), lr: 0.01);
        var before = other.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var e = Assert.Throws<StateDictException>(() => TrainingCheckpoint.Load(path, other, otherOptimizer))!;
        Assert.That(e.Message, Does.Contain("checkpoint of another model").And.Contain("size mismatch").And.Contain("1.weight"));
        foreach (var (name, tensor) in other.state_dict())
            Assert.That(tensor.eq(before[name]).all().item<bool>(), $"{name} is unchanged");
    }

    [Test]
    public void A_checkpoint_of_another_optimizer_is_refused_before_the_model_changes()
    {
        var path = Path.Combine(_dir, "adamw.ckpt");
        manual_seed(1);
        var model = Model();
        var optimizer = new AdamW(model.parameters(), lr: 0.01);
        Step(model, optimizer, Batches(1)[0]);
        using (var state = new TrainingCheckpoint()) TrainingCheckpoint.Save(path, model, optimizer, state);

        manual_seed(2);
        var fresh = Model();
        var before = fresh.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        var e = Assert.Throws<ArgumentException>(() => TrainingCheckpoint.Load(path, fresh, new Sgd(fresh.parameters(), lr: 0.1)))!;
        Assert.That(e.Message, Does.Contain("Engine.Optim.AdamW").And.Contain("Engine.Optim.Sgd"));
        foreach (var (name, tensor) in fresh.state_dict())
            Assert.That(tensor.eq(before[name]).all().item<bool>(), $"{name} is unchanged");
    }

    [Test]
    public void A_plain_safetensors_file_is_not_a_training_checkpoint()
    {
        var path = Path.Combine(_dir, "weights.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = ones(2) });
        var model = Model();
        var e = Assert.Throws<InvalidDataException>(() => TrainingCheckpoint.Load(path, model, new AdamW(model.parameters())))!;
        Assert.That(e.Message, Does.Contain("is not an Engine training checkpoint"));
        Assert.Throws<FileNotFoundException>(() => TrainingCheckpoint.Load(Path.Combine(_dir, "none"), model, new AdamW(model.parameters())));
    }
}
