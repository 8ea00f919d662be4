using Engine.Distributed;
using Engine.Normalization;

namespace Engine.Tests.Distributed;

/// <summary>
/// <see cref="SyncBatchNorm"/>: across 2 MPI ranks against a single-process BatchNorm on the full
/// batch (the checks and their tolerances are in <see cref="SyncBatchNormCases"/>), and in this
/// process, where no group exists, against Engine's BatchNorm, whose code it then runs.
/// </summary>
[TestFixture, NonParallelizable]
public class SyncBatchNormTests
{
    [Test]
    public void Two_ranks_match_single_process_BatchNorm_on_the_full_batch()
    {
        var job = MpiJob.Run("dist-syncbn", 2);
        Assert.That(job.ExitCode, Is.EqualTo(0), job.Output);
        for (var r = 0; r < 2; r++)
        {
            var lines = job.Lines(r);
            foreach (var line in lines) TestContext.Out.WriteLine(line);
            Assert.That(lines, Has.Count.GreaterThan(60), job.Output);
            Assert.That(lines.Where(l => !l.Contains(": ok")), Is.Empty, job.Output);
        }
        // The eval check runs on rank 0 only; rank 1 reports that it passed the barrier after it.
        Assert.That(job.Lines(0), Has.Some.StartsWith("rank 0: even-float64: eval forward on rank 0 alone: ok"));
        Assert.That(job.Lines(1), Has.Some.StartsWith("rank 1: even-float64: eval without communication: ok"));
    }

    static (BatchNorm2d Plain, SyncBatchNorm Sync) Pair(double? momentum, ScalarType dtype = ScalarType.Float64)
    {
        var plain = new BatchNorm2d(3, momentum: momentum, dtype: dtype);
        var sync = new SyncBatchNorm(3, momentum: momentum, dtype: dtype);
        using (no_grad())
        {
            plain.weight!.uniform_(0.5, 1.5);
            plain.bias!.uniform_(-1, 1);
            sync.weight!.copy_(plain.weight);
            sync.bias!.copy_(plain.bias);
        }
        return (plain, sync);
    }

    [TestCase(0.1)]
    [TestCase(null)]
    public void Without_a_process_group_it_is_BatchNorm_exactly(double? momentum)
    {
        Assume.That(ProcessGroup.Current, Is.Null.Or.Property(nameof(ProcessGroup.WorldSize)).EqualTo(1),
            "this process has a multi-rank group");
        manual_seed(21);
        var (plain, sync) = Pair(momentum);
        for (var step = 0; step < 3; step++)
        {
            var x = randn(6, 3, 4, 4, dtype: float64).mul(2).add(1);
            var w = randn(6, 3, 4, 4, dtype: float64);
            var xp = x.clone().requires_grad_();
            var xs = x.clone().requires_grad_();
            var yp = plain.forward(xp);
            var ys = sync.forward(xs);
            yp.mul(w).sum().backward();
            ys.mul(w).sum().backward();
            // The same code on the same numbers: bit for bit.
            Assert.That(ys.equal(yp).all().item<bool>(), $"forward, step {step}");
            Assert.That(xs.grad!.equal(xp.grad!).all().item<bool>(), $"input grad, step {step}");
        }
        Assert.That(sync.weight!.grad!.equal(plain.weight!.grad!).all().item<bool>());
        Assert.That(sync.bias!.grad!.equal(plain.bias!.grad!).all().item<bool>());
        Assert.That(sync.running_mean!.equal(plain.running_mean!).all().item<bool>());
        Assert.That(sync.running_var!.equal(plain.running_var!).all().item<bool>());
        Assert.That(sync.num_batches_tracked!.item<long>(), Is.EqualTo(3));
        plain.eval();
        sync.eval();
        var test = randn(2, 3, 4, 4, dtype: float64);
        Assert.That(sync.forward(test).equal(plain.forward(test)).all().item<bool>(), "eval");
    }

    [Test]
    public void State_dict_moves_from_BatchNorm_to_SyncBatchNorm_and_back()
    {
        manual_seed(22);
        var reference = nn.BatchNorm2d(3);
        for (var i = 0; i < 2; i++) reference.forward(randn(4, 3, 5, 5).mul(2).add(1));
        using (no_grad()) { reference.weight.uniform_(0.5, 1.5); reference.bias!.uniform_(-1, 1); }

        var sync = new SyncBatchNorm(3);
        var (missing, unexpected) = sync.load_state_dict(reference.state_dict());
        Assert.That(missing, Is.Empty);
        Assert.That(unexpected, Is.Empty);
        Assert.That(sync.state_dict().Keys, Is.EqualTo(reference.state_dict().Keys));
        foreach (var (key, value) in reference.state_dict()) Assert.That(sync.state_dict()[key].equal(value).all().item<bool>(), key);

        var back = new BatchNorm2d(3);
        (missing, unexpected) = back.load_state_dict(sync.state_dict());
        Assert.That(missing, Is.Empty);
        Assert.That(unexpected, Is.Empty);
        reference.eval();
        back.eval();
        var x = randn(2, 3, 5, 5);
        // Engine's BatchNorm against TorchSharp's in eval: float32 elementwise ops in another order.
        Assert.That(back.forward(x).allclose(reference.forward(x), rtol: 1e-5, atol: 1e-6));
    }

    /// <summary>Two identical models: Engine and TorchSharp BatchNorms, one of them in a nested Sequential.</summary>
    static nn.Module<Tensor, Tensor> Model()
    {
        manual_seed(23);
        return nn.Sequential(
            ("fc", nn.Linear(5, 4, dtype: float64)),
            ("bn", new BatchNorm1d(4, momentum: null, dtype: float64)),
            ("act", nn.ReLU()),
            ("inner", nn.Sequential(("fc2", nn.Linear(4, 3, dtype: float64)), ("bn2", nn.BatchNorm1d(3, eps: 1e-3, dtype: float64)))));
    }

    [Test]
    public void Convert_replaces_Engine_and_TorchSharp_BatchNorms_keeping_parameters_and_outputs()
    {
        var model = Model();
        var twin = Model();
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var bn2 = (TorchSharp.Modules.BatchNorm1d)model.named_modules().Single(m => m.name == "inner.bn2").module;

        var converted = SyncBatchNorm.Convert(model);

        Assert.That(converted, Is.SameAs(model));
        var syncs = model.named_modules().Where(m => m.module is SyncBatchNorm).Select(m => m.name).ToList();
        Assert.That(syncs, Is.EqualTo(new[] { "bn", "inner.bn2" }));
        var s2 = (SyncBatchNorm)model.named_modules().Single(m => m.name == "inner.bn2").module;
        Assert.That(s2.eps, Is.EqualTo(1e-3));
        Assert.That(s2.momentum, Is.EqualTo(0.1));
        Assert.That(((SyncBatchNorm)model.named_modules().Single(m => m.name == "bn").module).momentum, Is.Null);
        Assert.That(s2.running_var, Is.SameAs(bn2.running_var));
        // The very same Parameter objects under the same names: an optimizer built before still works.
        var after = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.That(after.Keys, Is.EquivalentTo(before.Keys));
        foreach (var (name, p) in before) Assert.That(after[name], Is.SameAs(p), name);
        Assert.That(model.state_dict().Keys, Is.EqualTo(twin.state_dict().Keys));

        // Single process: SyncBatchNorm is BatchNorm, so the converted model computes what its twin does.
        for (var step = 0; step < 2; step++)
        {
            var x = randn(8, 5, dtype: float64);
            Assert.That(model.forward(x).allclose(twin.forward(x), rtol: 0, atol: 1e-12), $"train step {step}");
        }
        Assert.That(s2.running_mean!.allclose(((TorchSharp.Modules.BatchNorm1d)twin.named_modules().Single(m => m.name == "inner.bn2").module).running_mean, rtol: 0, atol: 1e-12));
        model.eval();
        twin.eval();
        var t = randn(3, 5, dtype: float64);
        Assert.That(model.forward(t).allclose(twin.forward(t), rtol: 0, atol: 1e-12), "eval");
    }

    [Test]
    public void Convert_of_a_BatchNorm_returns_a_SyncBatchNorm_with_its_state()
    {
        var bn = nn.BatchNorm2d(3, momentum: 0.3);
        bn.forward(randn(4, 3, 2, 2));
        bn.eval();
        var sync = SyncBatchNorm.Convert(bn);
        Assert.That(sync, Is.InstanceOf<SyncBatchNorm>());
        var s = (SyncBatchNorm)sync;
        Assert.That(s.training, Is.False);
        Assert.That(s.momentum, Is.EqualTo(0.3));
        Assert.That(s.weight, Is.SameAs(bn.weight));
        Assert.That(s.num_batches_tracked!.item<long>(), Is.EqualTo(1));
    }

    sealed class Block : nn.Module<Tensor, Tensor>
    {
        public nn.Module<Tensor, Tensor> norm;
        readonly TorchSharp.Modules.Linear fc;

        public Block() : base(nameof(Block))
        {
            fc = nn.Linear(4, 4);
            norm = nn.BatchNorm1d(4);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => norm.forward(fc.forward(x));
    }

    sealed class RigidBlock : nn.Module<Tensor, Tensor>
    {
        public readonly BatchNorm1d norm = new(4);
        public RigidBlock() : base(nameof(RigidBlock)) => RegisterComponents();
        public override Tensor forward(Tensor x) => norm.forward(x);
    }

    [Test]
    public void Convert_replaces_a_custom_module_field_that_forward_uses()
    {
        var block = new Block();
        SyncBatchNorm.Convert(block);
        Assert.That(block.norm, Is.InstanceOf<SyncBatchNorm>(), "the field forward reads");
        Assert.That(block.named_children().Single(c => c.name == "norm").module, Is.SameAs(block.norm), "the registered child");
        Assert.That(block.forward(randn(5, 4)).shape, Is.EqualTo(new long[] { 5, 4 }));
    }

    [Test]
    public void Convert_refuses_a_field_that_cannot_hold_a_SyncBatchNorm_and_changes_nothing()
    {
        var rigid = new RigidBlock();
        var model = nn.Sequential(("first", new BatchNorm1d(4)), ("rigid", rigid));
        var ex = Assert.Throws<ArgumentException>(() => SyncBatchNorm.Convert(model));
        Assert.That(ex!.Message, Does.Contain("'norm'").And.Contain("BatchNorm1d").And.Contain("cannot hold a SyncBatchNorm"));
        Assert.That(model.named_children().First().module, Is.InstanceOf<BatchNorm1d>(), "checked before any change");
        Assert.That(rigid.norm, Is.InstanceOf<BatchNorm1d>());
    }

    sealed class Holder : nn.Module<Tensor, Tensor>
    {
        public readonly TorchSharp.Modules.ModuleList<nn.Module<Tensor, Tensor>> list =
            nn.ModuleList<nn.Module<Tensor, Tensor>>(nn.Linear(4, 4), new BatchNorm1d(4));
        public readonly TorchSharp.Modules.ModuleDict<nn.Module<Tensor, Tensor>> dict =
            nn.ModuleDict<nn.Module<Tensor, Tensor>>(("norm", nn.BatchNorm1d(4)), ("fc", nn.Linear(4, 4)));
        public Holder() : base(nameof(Holder)) => RegisterComponents();   // registers the containers' items too
        public override Tensor forward(Tensor x) => dict["norm"].forward(list[1].forward(x));
    }

    [Test]
    public void Convert_replaces_BatchNorms_in_a_ModuleList_and_a_ModuleDict()
    {
        var holder = new Holder();
        SyncBatchNorm.Convert(holder);
        Assert.That(holder.list[1], Is.InstanceOf<SyncBatchNorm>());
        Assert.That(holder.dict["norm"], Is.InstanceOf<SyncBatchNorm>());
        Assert.That(holder.named_modules().Where(m => m.module is SyncBatchNorm).Select(m => m.name), Is.EquivalentTo(new[] { "list.1", "dict.norm" }));
    }

    [Test]
    public void Convert_refuses_ghost_batch_norm()
    {
        var model = nn.Sequential(("bn", new BatchNorm1d(4) { GhostBatchSize = 2 }));
        var ex = Assert.Throws<ArgumentException>(() => SyncBatchNorm.Convert(model));
        Assert.That(ex!.Message, Does.Contain("ghost batches of 2"));
    }

    [Test]
    public void Bad_input_is_refused_with_the_shapes_before_any_native_call()
    {
        var sync = new SyncBatchNorm(3);
        Assert.That(Assert.Throws<ArgumentException>(() => sync.forward(randn(3)))!.Message,
            Does.StartWith("SyncBatchNorm: expected a (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W) input, got input of shape (3)"));
        Assert.That(Assert.Throws<ArgumentException>(() => sync.forward(randn(2, 4, 5)))!.Message,
            Does.Contain("has 4 channels at dim 1, expected num_features = 3"));
        Assert.That(Assert.Throws<ArgumentException>(() => sync.forward(ones([2, 3], ScalarType.Int32)))!.Message,
            Does.Contain("expected a floating-point input"));
        Assert.That(Assert.Throws<ArgumentException>(() => sync.forward(randn(1, 3)))!.Message,
            Does.Contain("expected more than 1 value per channel"));
    }
}
