using Engine.Init;

namespace Engine.Tests.Init;

using Init = Engine.Init.Init;
using TorchInit = TorchSharp.torch.nn.init;

/// <summary>
/// Engine's Init against TorchSharp's torch.nn.init.* in the same process: after the same seed the
/// same generator calls give bit-identical tensors on Linear and Conv weight shapes; gains and fans
/// against their formulas.
/// </summary>
public class InitTests
{
    /// <summary>Linear [out, in], Conv1d [out, in, k], Conv2d [out, in/groups, kh, kw], Conv3d.</summary>
    static readonly long[][] Shapes = [[23, 37], [6, 4, 3], [8, 3, 5, 7], [4, 2, 3, 3, 3]];

    /// <summary>PyTorch's xavier_normal_ std, gain · √(2 / (fan_in + fan_out)), with TorchSharp's fans.</summary>
    static double XavierStd(Tensor t, double gain)
    {
        var (fanIn, fanOut) = TorchInit.CalculateFanInAndFanOut(t);
        return gain * Math.Sqrt(2.0 / (fanIn + fanOut));
    }

    static IEnumerable<TestCaseData> Cases()
    {
        (string, Action<Tensor>, Action<Tensor>)[] pairs =
        [
            ("kaiming_uniform_ default", t => Init.KaimingUniform_(t), t => TorchInit.kaiming_uniform_(t)),
            ("kaiming_uniform_ a=sqrt(5)", t => Init.KaimingUniform_(t, a: Math.Sqrt(5)), t => TorchInit.kaiming_uniform_(t, a: Math.Sqrt(5))),
            ("kaiming_uniform_ fan_out relu", t => Init.KaimingUniform_(t, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu),
                t => TorchInit.kaiming_uniform_(t, mode: TorchInit.FanInOut.FanOut, nonlinearity: TorchInit.NonlinearityType.ReLU)),
            ("kaiming_normal_ default", t => Init.KaimingNormal_(t), t => TorchInit.kaiming_normal_(t)),
            ("kaiming_normal_ fan_out relu", t => Init.KaimingNormal_(t, mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu),
                t => TorchInit.kaiming_normal_(t, mode: TorchInit.FanInOut.FanOut, nonlinearity: TorchInit.NonlinearityType.ReLU)),
            ("kaiming_normal_ a=0.2 tanh", t => Init.KaimingNormal_(t, a: 0.2, nonlinearity: Nonlinearity.Tanh),
                t => TorchInit.kaiming_normal_(t, a: 0.2, nonlinearity: TorchInit.NonlinearityType.Tanh)),
            ("xavier_uniform_ default", t => Init.XavierUniform_(t), t => TorchInit.xavier_uniform_(t)),
            ("xavier_uniform_ tanh gain", t => Init.XavierUniform_(t, gain: Init.CalculateGain(Nonlinearity.Tanh)),
                t => TorchInit.xavier_uniform_(t, gain: TorchInit.calculate_gain(TorchInit.NonlinearityType.Tanh))),
            // TorchSharp 0.107's xavier_normal_ draws another stream than PyTorch's normal_(0, std)
            // (see InitPythonFixtureTests): ours is held to PyTorch's definition, on TorchSharp's normal_.
            ("xavier_normal_ default", t => Init.XavierNormal_(t), t => TorchInit.normal_(t, 0, XavierStd(t, 1))),
            ("xavier_normal_ gain 2", t => Init.XavierNormal_(t, gain: 2.0), t => TorchInit.normal_(t, 0, XavierStd(t, 2))),
            ("uniform_ default", t => Init.Uniform_(t), t => TorchInit.uniform_(t)),
            ("uniform_ [-0.3, 0.8)", t => Init.Uniform_(t, -0.3, 0.8), t => TorchInit.uniform_(t, -0.3, 0.8)),
            ("normal_ default", t => Init.Normal_(t), t => TorchInit.normal_(t)),
            ("normal_ mean 2 std 0.5", t => Init.Normal_(t, 2.0, 0.5), t => TorchInit.normal_(t, 2.0, 0.5)),
            ("constant_ 0.25", t => Init.Constant_(t, 0.25), t => TorchInit.constant_(t, 0.25)),
            ("ones_", t => Init.Ones_(t), t => TorchInit.ones_(t)),
            ("zeros_", t => Init.Zeros_(t), t => TorchInit.zeros_(t)),
        ];
        foreach (var (name, ours, theirs) in pairs)
            foreach (var shape in Shapes)
                foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
                    yield return new TestCaseData(ours, theirs, shape, dtype).SetName($"{name} [{string.Join(", ", shape)}] {dtype}");
    }

    [TestCaseSource(nameof(Cases))]
    public void Equals_torch_nn_init_bit_for_bit_after_the_same_seed(Action<Tensor> ours, Action<Tensor> theirs, long[] shape, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(20240);
        var a = empty(shape, dtype).fill_(-7);
        ours(a);
        manual_seed(20240);
        var b = empty(shape, dtype).fill_(-7);
        theirs(b);
        Assert.That(a.bytes.ToArray(), Is.EqualTo(b.bytes.ToArray()));
        Assert.That(a.eq(-7).all().item<bool>(), Is.False, "the initializer wrote the tensor");
    }

    [Test]
    public void A_generator_seeded_alike_gives_the_default_generators_numbers()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(77);
        var a = Init.KaimingNormal_(empty(16, 9), nonlinearity: Nonlinearity.Relu, generator: generator);
        var b = Init.XavierUniform_(empty(16, 9), generator: generator);
        manual_seed(77);
        var c = TorchInit.kaiming_normal_(empty(16, 9), nonlinearity: TorchInit.NonlinearityType.ReLU);
        var d = TorchInit.xavier_uniform_(empty(16, 9));
        Assert.That(a.bytes.ToArray(), Is.EqualTo(c.bytes.ToArray()));
        Assert.That(b.bytes.ToArray(), Is.EqualTo(d.bytes.ToArray()));
    }

    [Test]
    public void Kaiming_and_xavier_draw_with_the_standard_deviation_of_their_formula()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        // He init for a ReLU layer with fan_in 250: std = √(2 / 250); Xavier normal: √(2 / (250 + 400)).
        var he = Init.KaimingNormal_(empty(400, 250, dtype: ScalarType.Float64), nonlinearity: Nonlinearity.Relu);
        var xavier = Init.XavierNormal_(empty(400, 250, dtype: ScalarType.Float64));
        var bound = Init.KaimingUniform_(empty(400, 250, dtype: ScalarType.Float64), a: Math.Sqrt(5));
        // 100,000 draws: the sample std is within 1% of the true one with overwhelming probability (its
        // relative standard error is 1/√(2n) ≈ 0.2%).
        Assert.That(he.std().item<double>(), Is.EqualTo(Math.Sqrt(2.0 / 250)).Within(1).Percent);
        Assert.That(xavier.std().item<double>(), Is.EqualTo(Math.Sqrt(2.0 / 650)).Within(1).Percent);
        // a = √5 gives PyTorch's Linear default: U(−1/√fan_in, 1/√fan_in).
        Assert.That(bound.abs().max().item<double>(), Is.LessThanOrEqualTo(1 / Math.Sqrt(250)));
        Assert.That(bound.abs().max().item<double>(), Is.GreaterThan(0.999 / Math.Sqrt(250)));
    }

    [Test]
    public void Init_works_on_parameters_that_require_grad_without_recording_autograd()
    {
        using var scope = NewDisposeScope();
        var p = new Parameter(empty(4, 3));
        Init.KaimingNormal_(p, nonlinearity: Nonlinearity.Relu);
        Init.Constant_(p, 0.5);
        Assert.That(p.is_leaf && p.requires_grad);
    }

    [Test]
    public void CalculateGain_follows_the_formulas()
    {
        Assert.That(Init.CalculateGain(Nonlinearity.Linear), Is.EqualTo(1.0));
        Assert.That(Init.CalculateGain(Nonlinearity.Conv2d), Is.EqualTo(1.0));
        Assert.That(Init.CalculateGain(Nonlinearity.ConvTranspose3d), Is.EqualTo(1.0));
        Assert.That(Init.CalculateGain(Nonlinearity.Sigmoid), Is.EqualTo(1.0));
        Assert.That(Init.CalculateGain(Nonlinearity.Tanh), Is.EqualTo(5.0 / 3));
        Assert.That(Init.CalculateGain(Nonlinearity.Relu), Is.EqualTo(Math.Sqrt(2)));
        Assert.That(Init.CalculateGain(Nonlinearity.Selu), Is.EqualTo(0.75));
        // Leaky ReLU: √(2 / (1 + slope²)), slope 0.01 when none is given (PyTorch's default).
        Assert.That(Init.CalculateGain(Nonlinearity.LeakyRelu), Is.EqualTo(Math.Sqrt(2 / (1 + 0.01 * 0.01))).Within(1e-15));
        Assert.That(Init.CalculateGain(Nonlinearity.LeakyRelu, 0.2), Is.EqualTo(Math.Sqrt(2 / 1.04)).Within(1e-15));
        Assert.That(Init.CalculateGain(Nonlinearity.LeakyRelu, Math.Sqrt(5)), Is.EqualTo(Math.Sqrt(1.0 / 3)).Within(1e-15));
    }

    [Test]
    public void CalculateGain_equals_torchsharp_where_torchsharp_has_the_nonlinearity()
    {
        // TorchSharp has no SELU and defaults the leaky slope to 0, not PyTorch's 0.01: compare with explicit slopes.
        Assert.That(Init.CalculateGain(Nonlinearity.Tanh), Is.EqualTo(TorchInit.calculate_gain(TorchInit.NonlinearityType.Tanh)));
        Assert.That(Init.CalculateGain(Nonlinearity.Relu), Is.EqualTo(TorchInit.calculate_gain(TorchInit.NonlinearityType.ReLU)));
        Assert.That(Init.CalculateGain(Nonlinearity.Sigmoid), Is.EqualTo(TorchInit.calculate_gain(TorchInit.NonlinearityType.Sigmoid)));
        Assert.That(Init.CalculateGain(Nonlinearity.Conv2d), Is.EqualTo(TorchInit.calculate_gain(TorchInit.NonlinearityType.Conv2D)));
        foreach (var slope in new[] { 0.0, 0.01, 0.2, Math.Sqrt(5) })
            Assert.That(Init.CalculateGain(Nonlinearity.LeakyRelu, slope),
                Is.EqualTo(TorchInit.calculate_gain(TorchInit.NonlinearityType.LeakyReLU, slope)), $"slope {slope}");
    }

    [Test]
    public void Fans_follow_the_formula_for_linear_and_conv_weights()
    {
        using var scope = NewDisposeScope();
        Assert.That(Init.CalculateFanInAndFanOut(empty(10, 20)), Is.EqualTo((20L, 10L)));
        Assert.That(Init.CalculateFanInAndFanOut(empty(6, 4, 3)), Is.EqualTo((12L, 18L)));
        Assert.That(Init.CalculateFanInAndFanOut(empty(8, 3, 5, 7)), Is.EqualTo((105L, 280L)));
        Assert.That(Init.CalculateFanInAndFanOut(empty([4, 2, 3, 3, 3])), Is.EqualTo((54L, 108L)));
        foreach (var shape in Shapes)
        {
            var t = empty(shape);
            var (fanIn, fanOut) = TorchInit.CalculateFanInAndFanOut(t);
            Assert.That(Init.CalculateFanInAndFanOut(t), Is.EqualTo(((long)fanIn, (long)fanOut)));
        }
    }

    [Test]
    public void Bad_input_throws()
    {
        using var scope = NewDisposeScope();
        var ex = Assert.Throws<ArgumentException>(() => Init.CalculateFanInAndFanOut(empty(10)));
        Assert.That(ex!.Message, Does.Contain("fewer than 2 dimensions").And.Contain("[10]"));
        Assert.That(Assert.Throws<ArgumentException>(() => Init.KaimingUniform_(empty(10)))!.Message, Does.StartWith("KaimingUniform_:").And.Contain("[10]"));
        Assert.That(Assert.Throws<ArgumentException>(() => Init.KaimingNormal_(empty(10)))!.Message, Does.StartWith("KaimingNormal_:").And.Contain("[10]"));
        Assert.That(Assert.Throws<ArgumentException>(() => Init.XavierUniform_(tensor(1.0f)))!.Message, Does.StartWith("XavierUniform_:").And.Contain("[]"));
        Assert.That(Assert.Throws<ArgumentException>(() => Init.XavierNormal_(empty(new long[] { 3 })))!.Message, Does.StartWith("XavierNormal_:").And.Contain("[3]"));
        Assert.Throws<ArgumentException>(() => Init.KaimingUniform_(empty(3, 3), mode: (FanMode)4));
        Assert.Throws<ArgumentException>(() => Init.CalculateGain((Nonlinearity)99));
        Assert.Throws<ArgumentException>(() => Init.Uniform_(empty(3), 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Init.Normal_(empty(3), 0, -1));
    }

    [Test]
    public void An_empty_weight_is_left_as_is_by_kaiming()
    {
        using var scope = NewDisposeScope();
        var t = empty(0, 5);
        Assert.That(Init.KaimingUniform_(t).numel(), Is.EqualTo(0));
        Assert.That(Init.KaimingNormal_(t).numel(), Is.EqualTo(0));
    }
}
