using Engine.Data;
using Engine.Training;
using Engine.Training.Callbacks;
using static Engine.Tests.Training.TrainingData;

namespace Engine.Tests.Training;

/// <summary>Item 7: each bad input fails before any epoch runs and before any file is written,
/// with the weights untouched.</summary>
[TestFixture]
public class DryRunTests
{
    string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("engine-dryrun-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    TrainerCheckException Fails(nn.Module<Tensor, Tensor> model, IBatchSource data, Func<Tensor, Tensor, Tensor>? loss = null)
    {
        var before = Weights(model);
        var rec = new Recorder();
        var t = new Trainer(model, torch.optim.SGD(model.parameters(), 0.1), loss ?? CrossEntropy);
        var callbacks = new Callback[]
        {
            rec, new CsvLogger(Path.Combine(_dir, "log.csv")), new TensorBoard(Path.Combine(_dir, "tb")),
            new ModelCheckpoint(Path.Combine(_dir, "m-{epoch}.safetensors"), "loss"),
        };
        var e = Assert.Throws<TrainerCheckException>(() => t.Fit(data, null, 2, callbacks))!;
        Assert.That((rec.TrainBegins, rec.EpochBegins, rec.BatchLosses.Count, t.Epoch, t.GlobalStep), Is.EqualTo((0, 0, 0, 0, 0L)));
        Assert.That(Directory.GetFileSystemEntries(_dir), Is.Empty, "nothing written");
        AssertSameWeights(before, Weights(model));
        return e;
    }

    [Test]
    public void Labels_at_or_above_the_number_of_classes_fail()
    {
        var (x, y) = Classification(16);
        y[3] = tensor(Classes);
        var e = Fails(Mlp(), new DataLoader(x, y, 16, shuffle: false));
        Assert.That(e.Message, Does.Contain($"to {Classes}").And.Contain($"[0, {Classes - 1}]").And.Contain("[16, 4]"));
    }

    [Test]
    public void Negative_labels_fail()
    {
        var (x, y) = Classification(16);
        y[0] = tensor(-1L);
        Assert.That(Fails(Mlp(), new DataLoader(x, y, 8, shuffle: false)).Message, Does.Contain("from -1"));
    }

    [Test]
    public void An_output_and_target_shape_mismatch_fails_before_the_loss_broadcasts()
    {
        var (x, _) = Classification(16);
        var y = randn(16); // [N] against the model's [N, 1]
        manual_seed(1);
        var model = nn.Sequential(nn.Linear(In, 1));
        var e = Fails(model, new DataLoader(x, y, 8, shuffle: false), (p, t) => nn.functional.mse_loss(p, t));
        Assert.That(e.Message, Does.Contain("[8, 1]").And.Contain("[8]"));
    }

    [Test]
    public void An_empty_data_set_fails()
    {
        Assert.That(Fails(Mlp(), new ListSource([])).Message, Does.Contain("empty"));
        Assert.That(Fails(Mlp(), new ListSource([], reported: 3)).Message, Does.Contain("no batch"));
        var (x, y) = Classification(4);
        Assert.That(Fails(Mlp(), new ListSource([(x.narrow(0, 0, 0), y.narrow(0, 0, 0))])).Message, Does.Contain("empty"));
    }

    [Test]
    public void Batch_size_zero_is_refused_by_the_loader()
    {
        var (x, y) = Classification(4);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(x, y, 0));
    }

    [Test]
    public void A_wrong_image_shape_names_the_input_shape_and_the_model()
    {
        manual_seed(1);
        var model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 6 * 6, Classes));
        var x = randn(8, 3, 8, 8); // three channels for a one-channel model
        var y = randint(0, Classes, [8]);
        var e = Fails(model, new DataLoader(x, y, 4, shuffle: false));
        Assert.That(e.Message, Does.Contain("[4, 3, 8, 8]").And.Contain("Sequential.forward"));
        Assert.That(e.InnerException, Is.Not.Null);
    }

    [Test]
    public void A_loss_that_does_not_reduce_to_a_scalar_fails()
    {
        var (x, y) = Classification(8);
        var e = Fails(Mlp(), new DataLoader(x, y, 8, shuffle: false), (p, t) => nn.functional.cross_entropy(p, t, reduction: nn.Reduction.None));
        Assert.That(e.Message, Does.Contain("one number"));
    }
}
