using Engine.Averaging;

namespace Engine.Tests.Averaging;

/// <summary>Bad input to the averaging tools: clear managed errors, nothing changed.</summary>
public class BadInputTests
{
    [TestCase(1.0)]
    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    [TestCase(1.5)]
    public void Ema_decay_outside_0_1_is_refused(double decay)
    {
        using var model = nn.Linear(2, 2);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialMovingAverage(model, decay));
        Assert.That(ex!.Message, Does.Contain("decay must lie in [0, 1)"));
    }

    [Test]
    public void Updating_with_another_architecture_is_refused_before_any_change()
    {
        using var scope = NewDisposeScope();
        var model = nn.Linear(3, 2);
        using var swa = new StochasticWeightAveraging(model);
        swa.Update(model);
        var before = swa["weight"].clone();
        var ex = Assert.Throws<ArgumentException>(() => swa.Update(nn.Linear(3, 4)));
        Assert.That(ex!.Message, Does.Contain("'weight'").And.Contain("[4, 3]").And.Contain("[2, 3]"));
        Assert.Throws<ArgumentException>(() => swa.Update(nn.Sequential(("0", nn.Linear(3, 2)))));
        Assert.That(swa["weight"].SameValues(before), Is.True);
        Assert.That(swa.Updates, Is.EqualTo(1));
    }

    [Test]
    public void Apply_restore_misuse_is_refused()
    {
        using var scope = NewDisposeScope();
        var model = nn.Linear(3, 2);
        using var ema = new ExponentialMovingAverage(model);
        Assert.Throws<InvalidOperationException>(() => ema.Restore(model));
        ema.Apply(model);
        Assert.Throws<InvalidOperationException>(() => ema.Apply(model));
        Assert.Throws<InvalidOperationException>(() => ema.Update(model));
        Assert.Throws<ArgumentException>(() => ema.Restore(nn.Linear(3, 2)));
        ema.Restore(model);
    }

    [Test]
    public void Load_state_dict_of_another_model_is_refused()
    {
        using var scope = NewDisposeScope();
        using var a = new ExponentialMovingAverage(nn.Linear(3, 2));
        using var b = new ExponentialMovingAverage(nn.Linear(3, 4));
        Assert.That(Assert.Throws<ArgumentException>(() => a.LoadStateDict(b.StateDict()))!.Message, Does.Contain("average.weight"));
        Assert.Throws<ArgumentException>(() => a.LoadStateDict(new Dictionary<string, Tensor>()));
        Assert.That(a.Updates, Is.EqualTo(0));
    }

    [Test]
    public void Swalr_arguments_are_checked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SWALR(-0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SWALR(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SWALR(0.05, annealEpochs: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SWALR(0.05, anneal: (SwaAnneal)7));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SnapshotEnsemble(0));
        Assert.Throws<ArgumentException>(() => new Ensemble(Array.Empty<nn.Module<Tensor, Tensor>>()));
    }
}
