// Not Engine.Tests.Autograd: that namespace would hide the Engine.Autograd class from every Engine.Tests.* file.
namespace Engine.Tests.AutogradSuite;

/// <summary>
/// <see cref="GradCheck"/> agrees with autograd on composite float64 functions, and it can fail:
/// a function whose autograd misses a term (through Detach) is caught.
/// </summary>
[TestFixture]
public class GradCheckTests
{
    DisposeScope? _scope;

    [SetUp]
    public void OpenScope()
    {
        _scope = DisposeScope.Begin();
        Torch.ManualSeed(1234);
    }

    [TearDown]
    public void CloseScope() => _scope!.Dispose();

    static Tensor Input(params long[] shape) => Torch.Randn(shape, ScalarType.Float64, requiresGrad: true);
    static Tensor Constant(params long[] shape) => Torch.Randn(shape, ScalarType.Float64);

    static void Passes(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        var r = GradCheck.Check(f, inputs);
        TestContext.Progress.WriteLine($"  {TestContext.CurrentContext.Test.Name}: {r.Report}");
        Assert.That(r.Passed, r.Report);
        Assert.That(r.MaxAbsError, Is.LessThan(1e-5));
    }

    [Test]
    public void Tanh_times_a_second_input() => Passes(a => a[0].Tanh() * a[1], Input(3, 4), Input(3, 4));

    [Test]
    public void Sigmoid_of_an_affine_map() =>
        Passes(a => a[0].Matmul(a[1]).Add(a[2]).Sigmoid(), Input(2, 3), Input(3, 4), Input(4));

    [Test]
    public void Softmax_over_rows() => Passes(a => a[0].Softmax(1) * Torch.Arange(1.0, 5.0, 1.0, ScalarType.Float64), Input(3, 4));

    [Test]
    public void Log_softmax_then_gather_is_the_cross_entropy()
    {
        var target = Torch.FromArray(new long[] { 2, 0, 3 }).Unsqueeze(1);
        Passes(a => a[0].LogSoftmax(1).Gather(1, target).Mean().Neg(), Input(3, 4));
    }

    [Test]
    public void Matmul_of_two_inputs() => Passes(a => a[0].Matmul(a[1]), Input(3, 2), Input(2, 4));

    [Test]
    public void Batched_matmul_with_broadcasting() => Passes(a => a[0].Matmul(a[1]), Input(2, 2, 3), Input(3, 2));

    [Test]
    public void Conv2d_with_stride_padding_and_bias() =>
        Passes(a => Functional.Conv2d(a[0], a[1], a[2], stride: [2, 1], padding: [1, 1]), Input(1, 2, 4, 4), Input(3, 2, 2, 2), Input(3));

    [Test]
    public void Pow_with_scalar_and_tensor_exponents()
    {
        // Bases kept away from 0, where x^2.5 and x^y have a singular derivative.
        Passes(a => a[0].Abs().Add(0.5).Pow(2.5) + a[0].Square().Add(1.0).Pow(a[1]), Input(2, 3), Input(2, 3));
    }

    [Test]
    public void Division_by_an_expression_of_another_input() =>
        Passes(a => a[0] / (a[1].Square() + 1.0) - 2.0 / (a[0].Square() + 0.5), Input(3, 3), Input(3, 3));

    [Test]
    public void LogSumExp_over_a_dim() => Passes(a => a[0].LogSumExp(1) + a[0].LogSumExp([0, 1]), Input(3, 4));

    [Test]
    public void Vector_norm()
    {
        // Away from 0, where the 2-norm is not differentiable.
        Passes(a => a[0].Norm() + a[0].Norm(3.0, [1]), Input(3, 4));
    }

    [Test]
    public void Variance_and_standard_deviation() => Passes(a => Torch.Cat([a[0].Var(1), a[0].Std(0, unbiased: false) * 2.0]), Input(3, 4));

    [Test]
    public void Relu_away_from_zero()
    {
        // Every element at least 0.1 from the kink, so eps = 1e-6 never crosses it.
        var x = Torch.FromArray(new double[] { -1.3, -0.2, 0.15, 0.9, 2.1, -0.7 }, 2, 3).RequiresGrad_();
        Passes(a => a[0].Relu() * a[0], x);
    }

    [Test]
    public void Normalization_layer_written_out()
    {
        // (x - mean) / sqrt(var + eps) * gamma + beta, the layer norm of a [2, 5] input.
        Passes(a =>
        {
            var x = a[0];
            var mean = x.Mean(1, keepdim: true);
            var variance = x.Var(1, unbiased: false, keepdim: true);
            return (x - mean) / (variance + 1e-5).Sqrt() * a[1] + a[2];
        }, Input(2, 5), Input(5), Input(5));
    }

    [Test]
    public void Max_pool_and_average_pool()
    {
        // Distinct values so the max is never tied.
        var x = Torch.Randperm(16, ScalarType.Float64).Mul_(0.25).View(1, 1, 4, 4).RequiresGrad_();
        Passes(a => Functional.MaxPool2d(a[0], [2, 2]) + Functional.AvgPool2d(a[0], [2, 2]), x);
    }

    [Test]
    public void Only_inputs_that_require_grad_are_checked()
    {
        var constant = Constant(3);
        Passes(a => a[0].Mul(a[1]).Sin(), Input(3), constant);
    }

    [Test]
    public void Zero_dimensional_and_non_contiguous_inputs()
    {
        var scalar = Torch.Scalar(0.7, ScalarType.Float64).RequiresGrad_();
        var nonContiguous = Constant(3, 4).T().Detach().RequiresGrad_(); // a [4, 3] leaf with strides (1, 4)
        Assert.That(nonContiguous.IsContiguous, Is.False);
        Passes(a => a[1].Exp() * a[0], scalar, nonContiguous);
    }

    // ---- the check can fail ----

    [Test]
    public void A_function_whose_autograd_misses_a_term_fails()
    {
        // f(x) = x * x, but one factor is detached: autograd gives x, the true derivative is 2x.
        var r = GradCheck.Check(a => a[0] * a[0].Detach(), [Input(2, 3)]);
        TestContext.Progress.WriteLine($"  detached term: {r.Report}");
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
            var e = a[0].Exp();
            return (e / e.Sum().Detach() * w).Sum();
        }, [Input(4)]);
        Assert.That(r.Passed, Is.False, r.Report);
    }

    [Test]
    public void Float32_inputs_are_rejected()
    {
        var x = Torch.Randn([3], requiresGrad: true);
        var e = Assert.Throws<ArgumentException>(() => GradCheck.Check(a => a[0].Sin(), [x]));
        Assert.That(e!.Message, Does.Contain("float64").And.Contain("float32"));
    }

    [Test]
    public void No_input_requiring_grad_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => GradCheck.Check(a => a[0].Sin(), [Constant(3)]));
        Assert.That(e!.Message, Does.Contain("no input requires grad"));
    }

    [Test]
    public void The_check_frees_its_temporaries()
    {
        var x = Input(3, 2);
        long live = Tensor.LiveCount;
        GradCheck.Check(a => a[0].Tanh().Sum(), [x]);
        Assert.That(Tensor.LiveCount, Is.EqualTo(live));
        Assert.That(x.Grad, Is.Null, "the check uses autograd.grad, not backward");
    }
}
