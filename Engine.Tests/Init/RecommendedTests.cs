using Engine.Init;
using TorchSharp.Modules;

namespace Engine.Tests.Init;

using Init = Engine.Init.Init;
using TorchInit = TorchSharp.torch.nn.init;

/// <summary>Init.ApplyRecommended over whole TorchSharp models: each layer gets the seeds' rule for
/// its type and following activation, checked bit for bit against TorchSharp's initializers (or
/// Init's where TorchSharp has none) drawn in the same order after the same seed.</summary>
public class RecommendedTests
{
    static Sequential Mixed() => nn.Sequential(
        ("emb_unused", nn.Embedding(50, 12)),
        ("fc0", nn.Linear(12, 30)), ("relu", nn.ReLU()),
        ("fc1", nn.Linear(30, 30)), ("drop", nn.Dropout(0.1)), ("tanh", nn.Tanh()),
        ("fc2", nn.Linear(30, 30)), ("bn", nn.BatchNorm1d(30)), ("selu", nn.SELU()),
        ("fc3", nn.Linear(30, 30)), ("leaky", nn.LeakyReLU(0.2)),
        ("fc4", nn.Linear(30, 30)), ("sig", nn.Sigmoid()),
        ("ln", nn.LayerNorm(30)),
        ("head", nn.Linear(30, 5)));

    [Test]
    public void Each_layer_gets_its_rule_in_module_order()
    {
        using var scope = NewDisposeScope();
        using var model = Mixed();
        // Scramble the norm layers so setting them is visible.
        using (no_grad())
            foreach (var (name, q) in model.named_parameters())
                if (name.StartsWith("bn") || name.StartsWith("ln")) q.uniform_(3, 4);
        manual_seed(42);
        var rules = Init.ApplyRecommended(model);

        manual_seed(42);
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Tensor Like(string name) => empty_like(p[name]);
        var expected = new Dictionary<string, Tensor>
        {
            ["emb_unused.weight"] = TorchInit.normal_(Like("emb_unused.weight"), 0, 0.02),
            ["fc0.weight"] = TorchInit.kaiming_normal_(Like("fc0.weight"), nonlinearity: TorchInit.NonlinearityType.ReLU),
            ["fc1.weight"] = TorchInit.xavier_uniform_(Like("fc1.weight"), gain: 5.0 / 3),
            ["fc2.weight"] = Init.LecunNormal_(Like("fc2.weight")),
            ["fc3.weight"] = TorchInit.kaiming_normal_(Like("fc3.weight"), a: 0.2, nonlinearity: TorchInit.NonlinearityType.LeakyReLU),
            ["fc4.weight"] = TorchInit.xavier_uniform_(Like("fc4.weight")),
            ["head.weight"] = TorchInit.xavier_uniform_(Like("head.weight")),
        };
        foreach (var (name, value) in expected)
            Assert.That(p[name].bytes.ToArray(), Is.EqualTo(value.bytes.ToArray()), $"{name}: {rules.GetValueOrDefault(name.Split('.')[0])}");
        foreach (var name in new[] { "fc0", "fc1", "fc2", "fc3", "fc4", "head" })
            Assert.That(p[$"{name}.bias"].eq(0).all().item<bool>(), Is.True, $"{name}.bias");
        foreach (var name in new[] { "bn", "ln" })
        {
            Assert.That(p[$"{name}.weight"].eq(1).all().item<bool>(), Is.True, $"{name}.weight");
            Assert.That(p[$"{name}.bias"].eq(0).all().item<bool>(), Is.True, $"{name}.bias");
        }
        Assert.That(rules.Keys, Is.EquivalentTo(new[] { "emb_unused", "fc0", "fc1", "fc2", "fc3", "fc4", "head", "bn", "ln" }));
    }

    [Test]
    public void Conv_then_batchnorm_then_relu_is_he_with_fan_out()
    {
        using var scope = NewDisposeScope();
        using var model = nn.Sequential(("conv", nn.Conv2d(3, 16, 3)), ("bn", nn.BatchNorm2d(16)), ("act", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(16, 4)));
        manual_seed(5);
        Init.ApplyRecommended(model);
        manual_seed(5);
        var w = TorchInit.kaiming_normal_(empty(16, 3, 3, 3), mode: TorchInit.FanInOut.FanOut, nonlinearity: TorchInit.NonlinearityType.ReLU);
        Assert.That(((Conv2d)model.named_children().First().module).weight!.bytes.ToArray(), Is.EqualTo(w.bytes.ToArray()));
    }

    [Test]
    public void Without_activation_modules_the_given_activation_applies_except_to_the_output_layer()
    {
        using var scope = NewDisposeScope();
        using var model = nn.Sequential(("a", nn.Linear(8, 8)), ("b", nn.Linear(8, 8)), ("out", nn.Linear(8, 2)));
        var rules = Init.ApplyRecommended(model, Nonlinearity.Tanh);
        Assert.That(rules["a"], Does.StartWith("xavier_uniform gain 5/3"));
        Assert.That(rules["b"], Does.StartWith("xavier_uniform gain 5/3"));
        Assert.That(rules["out"], Does.StartWith("xavier_uniform gain 1"));
        rules = Init.ApplyRecommended(model, Nonlinearity.Selu, new RecommendedInitOptions { OutputActivation = Nonlinearity.Sigmoid });
        Assert.That(rules["a"], Does.StartWith("lecun_normal"));
        Assert.That(rules["out"], Does.StartWith("xavier_uniform gain 1 (Sigmoid)"));
    }

    [Test]
    public void Residual_branch_outputs_are_scaled_by_one_over_sqrt_two_depth()
    {
        using var scope = NewDisposeScope();
        Sequential Blocks() => nn.Sequential(
            ("b0_fc", nn.Linear(16, 64)), ("b0_act", nn.GELU()), ("b0_proj", nn.Linear(64, 16)),
            ("b1_fc", nn.Linear(16, 64)), ("b1_act", nn.GELU()), ("b1_proj", nn.Linear(64, 16)));
        using var plain = Blocks();
        using var scaled = Blocks();
        manual_seed(9);
        Init.ApplyRecommended(plain);
        manual_seed(9);
        var rules = Init.ApplyRecommended(scaled, options: new RecommendedInitOptions { ResidualDepth = 2, IsResidualBranchOutput = n => n.EndsWith("proj") });
        var a = plain.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        var b = scaled.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        // x · (1/√4) = x/2 exactly in binary floating point.
        Assert.That(b["b0_proj.weight"].bytes.ToArray(), Is.EqualTo(a["b0_proj.weight"].div(2).bytes.ToArray()));
        Assert.That(b["b1_proj.weight"].bytes.ToArray(), Is.EqualTo(a["b1_proj.weight"].div(2).bytes.ToArray()));
        Assert.That(b["b0_fc.weight"].bytes.ToArray(), Is.EqualTo(a["b0_fc.weight"].bytes.ToArray()), "not a branch output");
        Assert.That(rules["b1_proj"], Does.Contain("residual"));
        Assert.Throws<ArgumentException>(() => Init.ApplyRecommended(plain, options: new RecommendedInitOptions { ResidualDepth = 2 }));
        Assert.Throws<ArgumentException>(() => Init.ApplyRecommended(plain, options: new RecommendedInitOptions { IsResidualBranchOutput = _ => true }));
    }

    [Test]
    public void Engines_own_norm_layers_get_weight_one_and_bias_zero()
    {
        using var scope = NewDisposeScope();
        using var model = nn.Sequential(("fc", nn.Linear(6, 6)), ("norm", new Engine.Normalization.LayerNorm([6])), ("act", nn.ReLU()));
        using (no_grad()) foreach (var p in model.parameters()) p.uniform_(2, 3);
        var rules = Init.ApplyRecommended(model);
        var ps = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Assert.That(ps["norm.weight"].eq(1).all().item<bool>() && ps["norm.bias"].eq(0).all().item<bool>(), Is.True);
        Assert.That(rules["fc"], Does.StartWith("kaiming_normal FanIn relu"), "looked past the norm layer to the ReLU");
    }

    [Test]
    public void Recurrent_weights_are_orthogonal_per_gate()
    {
        using var scope = NewDisposeScope();
        using var model = new Recurrent();
        var rules = Init.ApplyRecommended(model);
        Assert.That(rules.Keys, Does.Contain("lstm"), string.Join("; ", model.named_modules().Select(m => $"{m.name}:{m.module.GetType().Name}:{m.module.children().Count()}")));
        Assert.That(rules["lstm"], Does.Contain("(4)"));
        Assert.That(rules["gru"], Does.Contain("(3)"));
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.Contains("weight_hh"))
            {
                long gates = name.StartsWith("lstm") ? 4 : 3;
                foreach (var block in p.detach().to(ScalarType.Float64).chunk(gates, 0))
                    // float32 orthogonal blocks [32, 32]: Gram entries are sums of 32 float32 products.
                    Assert.That(block.mm(block.t()).sub(eye(32, dtype: ScalarType.Float64)).abs().max().item<double>(), Is.LessThan(1e-5), name);
            }
            else if (name.Contains("bias_")) Assert.That(p.eq(0).all().item<bool>(), Is.True, name);
            else if (name.Contains("weight_ih"))
            {
                var (fanIn, fanOut) = Init.CalculateFanInAndFanOut(p);
                Assert.That(p.abs().max().item<float>(), Is.LessThanOrEqualTo((float)Math.Sqrt(6.0 / (fanIn + fanOut))), name);
            }
        }
    }

    /// <summary>A TorchSharp model the usual way: submodules as fields, registered by name.</summary>
    sealed class Recurrent : nn.Module
    {
        readonly Embedding emb = nn.Embedding(100, 24);
        readonly LSTM lstm = nn.LSTM(24, 32);
        readonly GRU gru = nn.GRU(32, 32, numLayers: 2);

        public Recurrent() : base(nameof(Recurrent)) => RegisterComponents();
    }

    [Test]
    public void Layers_inside_a_module_list_are_reached()
    {
        using var scope = NewDisposeScope();
        using var model = new Stack();
        var rules = Init.ApplyRecommended(model, Nonlinearity.Tanh);
        Assert.That(rules.Keys, Is.EquivalentTo(new[] { "layers.0", "layers.1", "layers.2" }),
            string.Join("; ", model.named_modules().Select(m => m.name)));
        Assert.That(rules["layers.2"], Does.StartWith("xavier_uniform gain 1"), "the last one is the output layer");
    }

    sealed class Stack : nn.Module<Tensor, Tensor>
    {
        readonly ModuleList<Linear> layers = new(nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 2));

        public Stack() : base(nameof(Stack)) => RegisterComponents();

        public override Tensor forward(Tensor x)
        {
            foreach (var l in layers.Take(2)) x = l.call(x).tanh();
            return layers[2].call(x);
        }
    }
}
