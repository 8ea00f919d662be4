using Engine.Nn;

namespace Engine.Tests.Nn;

/// <summary>The Module base: discovery and naming, modes, moves, state dicts, freezing, hooks.</summary>
public class ModuleTests
{
    /// <summary>A model shaped like a user's: fields, a property, a buffer, a nested container.</summary>
    sealed class Net : Module<Tensor, Tensor>
    {
        readonly Linear _encoder = new(4, 8, device: Device.CPU);
        public Sequential Head { get; } = new(new Linear(8, 8, device: Device.CPU), new ReLU(), new Linear(8, 2, device: Device.CPU));
        [Buffer] readonly Tensor _runningMean = Torch.Zeros([8], device: Device.CPU);
        public Parameter Scale { get; } = MakeScale();

        static Parameter MakeScale()
        {
            using var one = Torch.Ones([1], device: Device.CPU);
            return new Parameter(one);
        }

        public override Tensor Forward(Tensor x)
        {
            using var h = _encoder.Call(x);
            using var y = Head.Call(h);
            return y.Mul(Scale);
        }
    }

    [Test]
    public void Parameters_buffers_and_children_are_found_and_named_as_pytorch_names_them()
    {
        using var net = new Net();
        Assert.That(net.NamedParameters().Select(p => p.Name), Is.EqualTo(new[]
        {
            "scale", "encoder.weight", "encoder.bias", "head.0.weight", "head.0.bias", "head.2.weight", "head.2.bias",
        }));
        Assert.That(net.NamedBuffers().Select(b => b.Name), Is.EqualTo(new[] { "running_mean" }));
        Assert.That(net.NamedChildren().Select(c => c.Name), Is.EqualTo(new[] { "encoder", "head" }));
        Assert.That(net.ParameterCount(), Is.EqualTo(4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2 + 1));
    }

    [TestCase("_runningMean", "running_mean")]
    [TestCase("RunningMean", "running_mean")]
    [TestCase("<InProjWeight>k__BackingField", "in_proj_weight")]
    [TestCase("fc1", "fc1")]
    [TestCase("m_weight", "weight")]
    [TestCase("HTTPServer", "http_server")]
    public void Field_names_become_snake_case(string field, string expected) =>
        Assert.That(Module.PyTorchName(field), Is.EqualTo(expected));

    [Test]
    public void Train_and_eval_reach_every_descendant()
    {
        using var net = new Net();
        net.Eval();
        Assert.That(net.Modules().All(m => !m.Training), Is.True);
        net.Train();
        Assert.That(net.Modules().All(m => m.Training), Is.True);
    }

    [Test]
    public void To_dtype_converts_in_place_and_keeps_parameter_identity()
    {
        using var net = new Net();
        var before = net.Parameters().ToList();
        net.To(ScalarType.Float64);
        Assert.That(net.Parameters().ToList(), Is.EqualTo(before).Using<Parameter>(ReferenceEquals));
        Assert.That(net.Parameters().All(p => p.DType == ScalarType.Float64 && p.RequiresGrad && p.IsLeaf), Is.True);
        Assert.That(net.Buffers().Single().DType, Is.EqualTo(ScalarType.Float64));
        using var scope = DisposeScope.Begin();
        using var y = net.Call(Torch.Ones([3, 4], ScalarType.Float64, Device.CPU));
        Assert.That(y.DType, Is.EqualTo(ScalarType.Float64));
    }

    [Test]
    public void State_dict_round_trips_into_a_fresh_model()
    {
        using var scope = DisposeScope.Begin();
        using var a = new Net();
        using var b = new Net();
        var x = Torch.Randn([5, 4], device: Device.CPU);
        b.LoadStateDict(a.StateDict());
        Assert.That(a.Call(x).Equal(b.Call(x)), Is.True);
        Assert.That(a.StateDict().Keys, Does.Contain("running_mean"));
    }

    [Test]
    public void Strict_load_names_missing_unexpected_and_mis_shaped_entries_and_copies_nothing()
    {
        using var scope = DisposeScope.Begin();
        using var net = new Net();
        var state = net.StateDict();
        var weightBefore = net.NamedParameters().First(p => p.Name == "encoder.weight").Parameter.Clone();
        state.Remove("head.2.bias");
        state["extra.weight"] = Torch.Zeros([1], device: Device.CPU);
        state["encoder.weight"] = Torch.Zeros([3, 3], device: Device.CPU);
        var ex = Assert.Throws<StateDictException>(() => net.LoadStateDict(state))!;
        Assert.That(ex.Missing, Is.EqualTo(new[] { "head.2.bias" }));
        Assert.That(ex.Unexpected, Is.EqualTo(new[] { "extra.weight" }));
        Assert.That(ex.Mismatched.Single(), Does.Contain("encoder.weight: expected [8, 4], got [3, 3]"));
        Assert.That(ex.Message, Does.Contain("Net"));
        Assert.That(net.NamedParameters().First(p => p.Name == "encoder.weight").Parameter.Equal(weightBefore), Is.True);

        // Non-strict ignores missing and unexpected names, never a wrong shape.
        state["encoder.weight"] = Torch.Zeros([8, 4], device: Device.CPU);
        net.LoadStateDict(state, strict: false);
        Assert.That(net.NamedParameters().First(p => p.Name == "encoder.weight").Parameter.Abs().Sum().Item<double>(), Is.Zero);
    }

    [Test]
    public void Freeze_by_prefix_stops_gradients_there_only()
    {
        using var scope = DisposeScope.Begin();
        using var net = new Net();
        net.Freeze("encoder");
        Assert.That(net.ParameterCount(trainableOnly: true), Is.EqualTo(net.ParameterCount() - (4 * 8 + 8)));
        net.Call(Torch.Randn([2, 4], device: Device.CPU)).Sum().Backward();
        foreach (var (name, p) in net.NamedParameters())
        {
            using var g = p.Grad;
            Assert.That(g is null, Is.EqualTo(name.StartsWith("encoder.")), name);
        }
        net.Unfreeze();
        Assert.That(net.ParameterCount(trainableOnly: true), Is.EqualTo(net.ParameterCount()));
    }

    [Test]
    public void Forward_hooks_see_input_and_output_and_can_be_removed()
    {
        using var scope = DisposeScope.Begin();
        using var net = new Net();
        var seen = new List<long[]>();
        var handle = net.Head.RegisterForwardHook((m, input, output) => seen.Add(((Tensor)output!).Shape));
        net.Call(Torch.Randn([3, 4], device: Device.CPU));
        handle.Dispose();
        net.Call(Torch.Randn([3, 4], device: Device.CPU));
        Assert.That(seen, Has.Count.EqualTo(1));
        Assert.That(seen[0], Is.EqualTo(new long[] { 3, 2 }));
    }

    [Test]
    public void Biases_are_flagged_for_no_weight_decay()
    {
        using var net = new Net();
        var flags = net.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.NoWeightDecay);
        Assert.That(flags["encoder.bias"], Is.True);
        Assert.That(flags["encoder.weight"], Is.False);
    }

    [Test]
    public void Summary_and_printed_tree_show_every_module()
    {
        using var net = new Net();
        var summary = net.Summary();
        Assert.That(summary, Does.Contain("head.0").And.Contain("Linear").And.Contain("total parameters 131"));
        Assert.That(net.ToString(), Does.Contain("(encoder): Linear(in_features=4, out_features=8, bias=True)"));
    }

    [Test]
    public void Dispose_frees_every_parameter_and_buffer()
    {
        long before = Tensor.LiveCount;
        var net = new Net();
        Assert.That(Tensor.LiveCount, Is.GreaterThan(before));
        net.Dispose();
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
    }
}
