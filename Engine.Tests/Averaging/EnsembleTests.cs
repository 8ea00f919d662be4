using Engine.Averaging;
using Engine.Schedules;

namespace Engine.Tests.Averaging;

/// <summary>Ensemble and SnapshotEnsemble against float64 formulas written here.</summary>
public class EnsembleTests
{
    static nn.Module<Tensor, Tensor> Net(int seed)
    {
        manual_seed(seed);
        return nn.Sequential(("0", nn.Linear(4, 5)), ("1", nn.Tanh()), ("2", nn.Linear(5, 3)));
    }

    static double[,] Softmax64(Tensor logits)
    {
        var z = logits.to(ScalarType.Float64);
        int n = (int)z.shape[0], c = (int)z.shape[1];
        var v = z.data<double>().ToArray();
        var p = new double[n, c];
        for (int i = 0; i < n; i++)
        {
            double max = Enumerable.Range(0, c).Max(j => v[i * c + j]);
            double sum = Enumerable.Range(0, c).Sum(j => Math.Exp(v[i * c + j] - max));
            for (int j = 0; j < c; j++) p[i, j] = Math.Exp(v[i * c + j] - max) / sum;
        }
        return p;
    }

    [Test]
    public void Probabilities_are_the_mean_of_softmaxes_float64()
    {
        using var scope = NewDisposeScope();
        var nets = new[] { Net(1), Net(2), Net(3) };
        using var ensemble = new Ensemble(nets);
        var x = randn(6, 4);
        var output = ensemble.forward(x);
        var expected = new double[6, 3];
        foreach (var net in nets)
        {
            var p = Softmax64(net.forward(x).detach());
            for (int i = 0; i < 6; i++) for (int j = 0; j < 3; j++) expected[i, j] += p[i, j] / nets.Length;
        }
        // float32 softmax of O(1) logits, three of them summed: a few ulps of values ≤ 1.
        Assert.That(SwaFixture.MaxAbsDiff(output, tensor(expected)), Is.LessThan(1e-6));
        Assert.That(SwaFixture.MaxAbsDiff(output.sum(1), ones(6)), Is.LessThan(1e-6), "rows are distributions");
    }

    [Test]
    public void Logits_are_the_mean_of_outputs()
    {
        using var scope = NewDisposeScope();
        var nets = new[] { Net(1), Net(2) };
        using var ensemble = new Ensemble(nets, EnsembleAverage.Logits);
        var x = randn(6, 4);
        var expected = nets[0].forward(x).to(ScalarType.Float64).add(nets[1].forward(x).to(ScalarType.Float64)).div(2);
        Assert.That(SwaFixture.MaxAbsDiff(ensemble.forward(x), expected), Is.LessThan(1e-6)); // one float32 add and halving
    }

    [Test]
    public void Members_are_submodules_so_eval_reaches_them()
    {
        using var scope = NewDisposeScope();
        var nets = new[] { Net(1), Net(2) };
        using var ensemble = new Ensemble(nets);
        ensemble.eval();
        Assert.That(nets.All(n => !n.training), Is.True);
        Assert.That(ensemble.parameters().Count(), Is.EqualTo(8));
    }

    [Test]
    public void Different_architectures_are_refused_unless_allowed()
    {
        using var scope = NewDisposeScope();
        var a = Net(1);
        var b = nn.Sequential(("0", nn.Linear(4, 7)), ("1", nn.Tanh()), ("2", nn.Linear(7, 3)));
        var ex = Assert.Throws<ArgumentException>(() => new Ensemble([a, b]));
        Assert.That(ex!.Message, Does.Contain("member 1").And.Contain("0.weight").And.Contain("[7, 4]"));
        using var mixed = new Ensemble([a, b], requireSameArchitecture: false);
        Assert.That(mixed.forward(randn(2, 4)).shape, Is.EqualTo(new long[] { 2, 3 }));
        var c = nn.Linear(4, 2);
        using var wrongOutput = new Ensemble([a, c], requireSameArchitecture: false);
        Assert.That(Assert.Throws<ArgumentException>(() => wrongOutput.forward(randn(2, 4)))!.Message, Does.Contain("[2, 2]").And.Contain("[2, 3]"));
        Assert.Throws<ArgumentException>(() => new Ensemble([a, a]));
    }

    [Test]
    public void Snapshot_ensemble_equals_an_ensemble_of_copies_and_restores_the_model()
    {
        using var scope = NewDisposeScope();
        var nets = new[] { Net(1), Net(2), Net(3) };
        var model = Net(4);
        var own = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        using var snapshots = new SnapshotEnsemble();
        foreach (var n in nets) snapshots.TakeSnapshot(n);
        using var fromSnapshots = snapshots.ToEnsemble(model);
        using var fromModules = new Ensemble(nets);
        var x = randn(5, 4);
        Assert.That(fromSnapshots.Count, Is.EqualTo(3));
        // The same float32 ops on the same weights in the same order: equal bits.
        Assert.That(fromSnapshots.forward(x).SameValues(fromModules.forward(x)), Is.True);
        foreach (var (k, t) in model.state_dict()) Assert.That(t.SameValues(own[k]), Is.True, $"{k} restored");
    }

    [Test]
    public void Snapshots_are_taken_at_the_end_of_each_warm_restart_cycle()
    {
        using var scope = NewDisposeScope();
        var schedule = new CosineAnnealingWarmRestarts(3, tMult: 2);
        // Cycles of 3, 6, 12 steps start at steps 0, 3, 9, 21: they end at 2, 8, 20.
        var ends = Enumerable.Range(0, 22).Where(s => SnapshotEnsemble.IsCycleEnd(schedule, s)).ToArray();
        Assert.That(ends, Is.EqualTo(new[] { 2, 8, 20 }));
        var model = nn.Linear(2, 2);
        using var snapshots = new SnapshotEnsemble(maxSnapshots: 2);
        for (long step = 0; step < 22; step++)
        {
            using (no_grad()) model.weight!.fill_(step);
            snapshots.OnStep(model, schedule, step);
        }
        Assert.That(snapshots.Snapshots.Select(s => s["weight"][0, 0].item<float>()), Is.EqualTo(new[] { 8f, 20f }), "the last M kept");
    }

    [Test]
    public void Snapshot_of_another_architecture_is_refused()
    {
        using var scope = NewDisposeScope();
        using var snapshots = new SnapshotEnsemble();
        snapshots.TakeSnapshot(nn.Linear(2, 2));
        Assert.That(Assert.Throws<ArgumentException>(() => snapshots.TakeSnapshot(nn.Linear(2, 3)))!.Message, Does.Contain("another architecture"));
        var ex = Assert.Throws<ArgumentException>(() => Ensemble.FromSnapshots(nn.Linear(3, 2), snapshots.Snapshots));
        Assert.That(ex!.Message, Does.Contain("weight").And.Contain("[2, 2]"));
    }
}
