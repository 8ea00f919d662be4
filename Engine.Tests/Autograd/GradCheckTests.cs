using Engine.Autograd;

namespace Engine.Tests.Autograd;

/// <summary>
/// <see cref="GradCheck"/> agrees with TorchSharp's autograd on composite float64 functions, and it
/// can fail: a custom autograd function with a wrong backward, and functions whose autograd misses
/// a term (through detach), are caught.
/// </summary>
[TestFixture]
public class GradCheckTests
{
    DisposeScope? _scope;

    [SetUp]
    public void OpenScope()
    {
        _scope = NewDisposeScope();
        manual_seed(1234);
    }

    [TearDown]
    public void CloseScope() => _scope!.Dispose();

    static Tensor Input(params long[] shape) => randn(shape, ScalarType.Float64, requires_grad: true);
    static Tensor Constant(params long[] shape) => randn(shape, ScalarType.Float64);

    static void Passes(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        var r = GradCheck.Check(f, inputs);
        TestContext.Out.WriteLine($"  {TestContext.CurrentContext.Test.Name}: {r.Report}");
        Assert.That(r.Passed, r.Report);
        Assert.That(r.MaxAbsError, Is.LessThan(1e-5));
    }

    /// <summary>sin with the right derivative, cos, written as a TorchSharp custom autograd function.</summary>
    sealed class Sine : autograd.SingleTensorFunction<Sine>
    {
        public override string Name => nameof(Sine);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward([x]);
            return x.sin();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            [grad_output * ctx.get_saved_variables()[0].cos()];
    }

    /// <summary>sin whose hand-written backward has the classic sign slip: d sin = −cos.</summary>
    sealed class SineWithWrongDerivative : autograd.SingleTensorFunction<SineWithWrongDerivative>
    {
        public override string Name => nameof(SineWithWrongDerivative);

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            var x = (Tensor)vars[0];
            ctx.save_for_backward([x]);
            return x.sin();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output) =>
            [grad_output * ctx.get_saved_variables()[0].cos().neg()];
    }

    [Test]
    public void A_custom_autograd_function_with_the_right_derivative_passes() =>
        Passes(a => Sine.apply(a[0]) * a[1], Input(3, 4), Input(3, 4));

    [Test]
    public void A_custom_autograd_function_with_a_wrong_derivative_fails()
    {
        var x = Input(3, 4);
        var r = GradCheck.Check(a => SineWithWrongDerivative.apply(a[0]).sum(), [x]);
        TestContext.Out.WriteLine($"  wrong backward: {r.Report}");
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Report, Does.Contain("gradient mismatch").And.Contain("input 0"));
        // The worst element is where |2 cos x| is largest, and the report shows both numbers.
        double worst = ToDoubles(x).Max(v => Math.Abs(2 * Math.Cos(v)));
        Assert.That(r.MaxAbsError, Is.EqualTo(worst).Within(1e-6));
        var e = Assert.Throws<GradCheckException>(() => GradCheck.Verify(a => SineWithWrongDerivative.apply(a[0]).sum(), [x]));
        Assert.That(e!.Result.Passed, Is.False);
        Assert.That(e.Message, Does.Contain("gradient mismatch"));
    }

    [Test]
    public void Tanh_times_a_second_input() => Passes(a => a[0].tanh() * a[1], Input(3, 4), Input(3, 4));

    [Test]
    public void Sigmoid_of_an_affine_map() =>
        Passes(a => a[0].matmul(a[1]).add(a[2]).sigmoid(), Input(2, 3), Input(3, 4), Input(4));

    [Test]
    public void Softmax_over_rows() => Passes(a => a[0].softmax(1) * arange(1.0, 5.0, 1.0, ScalarType.Float64), Input(3, 4));

    [Test]
    public void Log_softmax_then_gather_is_the_cross_entropy()
    {
        var target = tensor(new long[] { 2, 0, 3 }).unsqueeze(1);
        Passes(a => a[0].log_softmax(1).gather(1, target).mean().neg(), Input(3, 4));
    }

    [Test]
    public void Matmul_of_two_inputs() => Passes(a => a[0].matmul(a[1]), Input(3, 2), Input(2, 4));

    [Test]
    public void Batched_matmul_with_broadcasting() => Passes(a => a[0].matmul(a[1]), Input(2, 2, 3), Input(3, 2));

    [Test]
    public void Conv2d_with_stride_padding_and_bias() =>
        Passes(a => nn.functional.conv2d(a[0], a[1], a[2], strides: [2, 1], padding: [1, 1]), Input(1, 2, 4, 4), Input(3, 2, 2, 2), Input(3));

    [Test]
    public void Pow_with_scalar_and_tensor_exponents()
    {
        // Bases kept away from 0, where x^2.5 and x^y have a singular derivative.
        Passes(a => a[0].abs().add(0.5).pow(2.5) + a[0].square().add(1.0).pow(a[1]), Input(2, 3), Input(2, 3));
    }

    [Test]
    public void Division_by_an_expression_of_another_input() =>
        Passes(a => a[0] / (a[1].square() + 1.0) - 2.0 / (a[0].square() + 0.5), Input(3, 3), Input(3, 3));

    [Test]
    public void LogSumExp_over_a_dim() => Passes(a => a[0].logsumexp(1) + a[0].logsumexp(0).sum(), Input(3, 4));

    [Test]
    public void Vector_norm()
    {
        // Away from 0, where the 2-norm is not differentiable.
        Passes(a => a[0].norm() + linalg.vector_norm(a[0], 3.0, [1]), Input(3, 4));
    }

    [Test]
    public void Variance_and_standard_deviation() =>
        Passes(a => cat([a[0].var(1), a[0].std(0, unbiased: false) * 2.0]), Input(3, 4));

    [Test]
    public void Relu_away_from_zero()
    {
        // Every element at least 0.1 from the kink, so eps = 1e-6 never crosses it.
        var x = tensor(new double[] { -1.3, -0.2, 0.15, 0.9, 2.1, -0.7 }, [2, 3]).requires_grad_();
        Passes(a => a[0].relu() * a[0], x);
    }

    [Test]
    public void Normalization_layer_written_out()
    {
        // (x - mean) / sqrt(var + eps) * gamma + beta, the layer norm of a [2, 5] input.
        Passes(a =>
        {
            var x = a[0];
            var mean = x.mean([1], keepdim: true);
            var variance = x.var(1, unbiased: false, keepdim: true);
            return (x - mean) / (variance + 1e-5).sqrt() * a[1] + a[2];
        }, Input(2, 5), Input(5), Input(5));
    }

    [Test]
    public void Max_pool_and_average_pool()
    {
        // Distinct values so the max is never tied.
        var x = randperm(16, dtype: ScalarType.Float64).mul_(0.25).view(1, 1, 4, 4).requires_grad_();
        Passes(a => nn.functional.max_pool2d(a[0], [2, 2]) + nn.functional.avg_pool2d(a[0], [2, 2]), x);
    }

    [Test]
    public void Only_inputs_that_require_grad_are_checked()
    {
        var constant = Constant(3);
        Passes(a => a[0].mul(a[1]).sin(), Input(3), constant);
    }

    [Test]
    public void Zero_dimensional_and_non_contiguous_inputs()
    {
        var scalar = tensor(0.7, ScalarType.Float64).requires_grad_();
        var nonContiguous = Constant(3, 4).t().detach().requires_grad_(); // a [4, 3] leaf with strides (1, 4)
        Assert.That(nonContiguous.is_contiguous(), Is.False);
        Passes(a =>
        {
            // The check perturbs a copy with the same strides, so the function sees the layout it was given.
            Assert.That(a[1].is_contiguous(), Is.False);
            return a[1].exp() * a[0];
        }, scalar, nonContiguous);
    }

    [Test]
    public void An_unused_input_and_an_output_without_grad_read_as_zero_gradients()
    {
        // torch.autograd.grad would abort the process on both (DESIGN.md "Errors"); backward() does not.
        Passes(a => a[0].sin(), Input(3), Input(2));
        var r = GradCheck.Check(a => a[0].detach().sin(), [Input(3)]);
        Assert.That(r.Passed, Is.False, "the true derivative cos x is not 0");
        Passes(a => a[0].detach().mul(0.0).sum(), Input(3));
    }

    // ---- the check can fail ----

    [Test]
    public void A_function_whose_autograd_misses_a_term_fails()
    {
        // f(x) = x * x, but one factor is detached: autograd gives x, the true derivative is 2x.
        var r = GradCheck.Check(a => a[0] * a[0].detach(), [Input(2, 3)]);
        TestContext.Out.WriteLine($"  detached term: {r.Report}");
        Assert.That(r.Passed, Is.False);
        Assert.That(r.Report, Does.Contain("gradient mismatch"));
        Assert.That(r.MaxAbsError, Is.GreaterThan(0.01));
    }

    [Test]
    public void A_missing_term_in_a_composite_fails()
    {
        // softmax(x) . w where the normalizer is detached: autograd misses d(sum exp)/dx.
        var w = Constant(4);
        var r = GradCheck.Check(a =>
        {
            var e = a[0].exp();
            return (e / e.sum().detach() * w).sum();
        }, [Input(4)]);
        Assert.That(r.Passed, Is.False, r.Report);
    }

    [Test]
    public void Float32_inputs_are_rejected()
    {
        var x = randn([3], requires_grad: true);
        var e = Assert.Throws<ArgumentException>(() => GradCheck.Check(a => a[0].sin(), [x]));
        Assert.That(e!.Message, Does.Contain("float64").And.Contain("float32"));
    }

    [Test]
    public void No_input_requiring_grad_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => GradCheck.Check(a => a[0].sin(), [Constant(3)]));
        Assert.That(e!.Message, Does.Contain("no input requires grad"));
    }

    [Test]
    public void A_float32_output_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => GradCheck.Check(a => a[0].sin().to(ScalarType.Float32), [Input(3)]));
        Assert.That(e!.Message, Does.Contain("float64").And.Contain("float32"));
    }

    [Test]
    public void The_check_frees_its_temporaries_and_leaves_the_inputs_alone()
    {
        var x = Input(3, 2);
        var before = x.clone();
        long live = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        GradCheck.Check(a => a[0].tanh().sum(), [x]);
        Assert.That(DisposeScopeManager.Statistics.ThreadTotalLiveCount, Is.EqualTo(live));
        Assert.That(x.grad, Is.Null, "the check differentiates copies, not the caller's leaves");
        Assert.That(x.eq(before).all().item<bool>(), Is.True);
    }

    static double[] ToDoubles(Tensor t) => t.detach().contiguous().data<double>().ToArray();
}
