namespace Engine.Tests.Tensors;

/// <summary>
/// The generic operator call (Op.Get(...).Call / Op.Invoke) against Python's torch.ops.aten
/// (fixture section "op"): results exactly, and schema text as Python's str(op._schema).
/// </summary>
public class OpTests
{
    static Expected E(string name) => Fx.E("op", name);
    static Tensor H() => Fx.Load("op", "h"); // [-2, -0.3, 0, 0.4, 1.5]

    [Test]
    public void Call_hardtanh_with_scalars_matches_python_torch_ops()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Op.Get("aten::hardtanh").Call(H(), -0.5, 0.5), E("hardtanh_m0p5_0p5"));
    }

    [Test]
    public void Call_fills_omitted_arguments_from_the_schema_defaults()
    {
        using var scope = DisposeScope.Begin();
        Check.Exact(Op.Get("hardtanh").Call(H()), E("hardtanh_default")); // min_val=-1, max_val=1
        Check.Exact(Op.Get("aten::hardtanh").Call(H(), Arg.Absent, 1.0), E("hardtanh_default"));
        Check.Exact(Op.Get("aten::clamp").Call(H(), -1.0), E("clamp_min"));
    }

    [Test]
    public void Call_selects_an_overload_and_passes_keyword_only_arguments_by_position()
    {
        using var scope = DisposeScope.Begin();
        var h = H();
        Check.Exact(Op.Get("aten::add", "Tensor").Call(h, h, 3), E("add_tensor_alpha")); // alpha=3
    }

    [Test]
    public void Invoke_with_boxed_args_returns_every_result()
    {
        using var scope = DisposeScope.Begin();
        var m = Torch.FromArray(new float[,] { { 1, 5, 2 }, { 7, 0, 3 } }).To(Device.CPU);
        var r = Op.Get("aten::max", "dim").Invoke(m, 1);
        Assert.That(r, Has.Length.EqualTo(2));
        Check.Exact((Tensor)r[0]!, E("max_dim_values"));
        Check.Exact((Tensor)r[1]!, E("max_dim_indices"));
        var h = H();
        var t = Op.Get("aten::hardtanh").Invoke(h, -0.5f, 0.5);
        Check.Exact((Tensor)t[0]!, E("hardtanh_m0p5_0p5"));
    }

    [Test]
    public void Invoke_returns_numbers_and_bools_boxed()
    {
        using var scope = DisposeScope.Begin();
        var size = Op.Get("aten::size", "int").Invoke(Torch.Zeros([2, 3], device: Device.CPU), 1L);
        Assert.That(size[0], Is.EqualTo(Fx.Node("op", "size_int").GetInt64()));
        var nz = Op.Get("aten::is_nonzero").Invoke(Torch.FromSpan<float>([3f], [1], Device.CPU));
        Assert.That(nz[0], Is.EqualTo(Fx.Node("op", "is_nonzero").GetBoolean()));
        var item = Op.Get("aten::item").Invoke(Torch.Scalar(3.5, device: Device.CPU));
        Assert.That(item[0], Is.EqualTo(Fx.Node("creation", "item_3p5").GetDouble()));
    }

    [Test]
    public void Invoke_rejects_an_argument_type_it_cannot_pass()
    {
        using var scope = DisposeScope.Begin();
        Assert.Throws<ArgumentException>(() => Op.Get("aten::hardtanh").Invoke(H(), new object()));
    }

    [Test]
    public void Exists_knows_registered_operators_and_overloads()
    {
        Assert.That(Op.Exists("aten::add", "Tensor"), Is.True);
        Assert.That(Op.Exists("add", "Scalar"), Is.True);
        Assert.That(Op.Exists("aten::hardtanh"), Is.True);
        Assert.That(Op.Exists("aten::no_such_operator"), Is.False);
        Assert.That(Op.Exists("aten::add", "NoSuchOverload"), Is.False);
    }

    [Test]
    public void All_lists_over_a_thousand_operators_by_name_and_overload()
    {
        var all = Op.All();
        Assert.That(all, Has.Count.GreaterThan(Fx.Node("op", "num_ops_at_least").GetInt32()));
        Assert.That(all, Does.Contain("aten::add.Tensor"));
        Assert.That(all, Does.Contain("aten::hardtanh"));
        Assert.That(all, Does.Contain("aten::max.dim"));
    }

    [Test]
    public void Schema_text_matches_pythons_schema_string()
    {
        Assert.That(Op.Get("aten::add", "Tensor").Schema, Is.EqualTo(Fx.Str("op", "schema_add_tensor")));
        Assert.That(Op.Get("aten::hardtanh").Schema, Is.EqualTo(Fx.Str("op", "schema_hardtanh")));
        Assert.That(Op.Get("aten::max", "dim").Schema, Is.EqualTo(Fx.Str("op", "schema_max_dim")));
        Assert.That(Op.Get("aten::max", "dim").FullName, Is.EqualTo("aten::max.dim"));
    }

    [Test]
    public void Get_of_an_unknown_operator_throws_TorchException()
    {
        var ex = Assert.Throws<TorchException>(() => Op.Get("aten::no_such_operator"));
        Assert.That(ex!.Message, Does.Contain("aten::no_such_operator"));
    }

    [Test]
    public void A_failing_call_throws_with_the_op_name_and_argument_shapes()
    {
        using var scope = DisposeScope.Begin();
        var a = Torch.Zeros([2, 3], device: Device.CPU);
        var b = Torch.Zeros([4], device: Device.CPU);
        var ex = Assert.Throws<TorchException>(() => Op.Get("aten::add", "Tensor").Call(a, b));
        Assert.That(ex!.Message, Does.Contain("aten::add.Tensor"));
        Assert.That(ex.Message, Does.Contain("[2, 3]"));
        Assert.That(ex.Message, Does.Contain("[4]"));
    }
}
