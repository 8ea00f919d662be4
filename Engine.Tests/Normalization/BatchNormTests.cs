using Engine.Normalization;

namespace Engine.Tests.Normalization;

/// <summary>
/// Engine's BatchNorm1d/2d/3d (the formula in tensor ops, and its fused-kernel switch) against
/// TorchSharp 0.107's nn.BatchNorm1d/2d/3d in the same process: outputs, input/γ/β gradients and
/// running statistics over several training steps with SGD updates between them, then eval on the
/// running statistics; float32 and float64. Tolerance: <see cref="NormParity.Tolerance"/>.
/// </summary>
public class BatchNormTests
{
    public static IEnumerable<TestCaseData> Cases()
    {
        var shapes = new (int Dims, long[] Shape)[] { (1, [16, 5]), (1, [8, 5, 7]), (2, [4, 5, 6, 5]), (3, [2, 5, 4, 3, 5]) };
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            foreach (var (dims, shape) in shapes)
                foreach (var (momentum, affine, track) in new (double?, bool, bool)[] { (0.1, true, true), (null, true, true), (0.3, false, true), (0.1, true, false), (0.1, false, false) })
                    yield return new TestCaseData(dims, shape, dtype, momentum, affine, track)
                        .SetArgDisplayNames($"BatchNorm{dims}d_{dtype}_{string.Join("x", shape)}_momentum{(momentum?.ToString() ?? "Null")}_affine{affine}_track{track}");
    }

    static (nn.Module<Tensor, Tensor> Reference, BatchNorm Engine) Make(int dims, double? momentum, bool affine, bool track, ScalarType dtype)
    {
        var reference = dims switch
        {
            1 => (TorchSharp.Modules.BatchNorm)nn.BatchNorm1d(5, momentum: momentum ?? 0.1, affine: affine, track_running_stats: track, dtype: dtype),
            2 => nn.BatchNorm2d(5, momentum: momentum ?? 0.1, affine: affine, track_running_stats: track, dtype: dtype),
            _ => nn.BatchNorm3d(5, momentum: momentum ?? 0.1, affine: affine, track_running_stats: track, dtype: dtype),
        };
        // TorchSharp's factory takes a double momentum; its module honours a null one (cumulative average).
        reference.momentum = momentum;
        BatchNorm engine = dims switch
        {
            1 => new BatchNorm1d(5, momentum: momentum, affine: affine, track_running_stats: track, dtype: dtype),
            2 => new BatchNorm2d(5, momentum: momentum, affine: affine, track_running_stats: track, dtype: dtype),
            _ => new BatchNorm3d(5, momentum: momentum, affine: affine, track_running_stats: track, dtype: dtype),
        };
        return (reference, engine);
    }

    [TestCaseSource(nameof(Cases))]
    public void Formula_matches_torchsharp(int dims, long[] shape, ScalarType dtype, double? momentum, bool affine, bool track)
    {
        manual_seed(11);
        var (reference, engine) = Make(dims, momentum, affine, track, dtype);
        var worst = NormParity.Run(reference, engine, shape, dtype);
        NormParity.Report(TestContext.CurrentContext.Test.Name, worst);
        Assert.That(worst.Max, Is.LessThanOrEqualTo(NormParity.Tolerance(dtype)), worst.ToString());
    }

    [TestCaseSource(nameof(Cases))]
    public void Fused_kernel_matches_formula(int dims, long[] shape, ScalarType dtype, double? momentum, bool affine, bool track)
    {
        manual_seed(12);
        var (_, formula) = Make(dims, momentum, affine, track, dtype);
        var (_, fused) = Make(dims, momentum, affine, track, dtype);
        fused.UseFusedKernel = true;
        var worst = NormParity.Run(fused, formula, shape, dtype);
        NormParity.Report(TestContext.CurrentContext.Test.Name, worst);
        Assert.That(worst.Max, Is.LessThanOrEqualTo(NormParity.Tolerance(dtype)), worst.ToString());
    }

    [Test]
    public void Cumulative_average_running_mean_is_the_mean_of_batch_means()
    {
        // momentum null: running_mean after t batches is (1/t) Σ μ_b, running_var the mean of the
        // unbiased batch variances; compared with those sums in float64.
        manual_seed(3);
        var bn = new BatchNorm1d(4, momentum: null, dtype: ScalarType.Float64);
        var means = zeros(4, dtype: float64);
        var vars = zeros(4, dtype: float64);
        for (var t = 0; t < 5; t++)
        {
            var x = randn(10, 4, dtype: float64).mul(1 + t).add(t);
            bn.forward(x);
            means.add_(x.mean([0]));
            vars.add_(x.var(0, unbiased: true));
        }
        Assert.That(NormParity.Relative(means.div(5), bn.running_mean!), Is.LessThan(1e-14));
        Assert.That(NormParity.Relative(vars.div(5), bn.running_var!), Is.LessThan(1e-14));
        Assert.That(bn.num_batches_tracked!.item<long>(), Is.EqualTo(5));
    }

    [Test]
    public void State_dict_from_torchsharp_gives_the_same_eval_outputs()
    {
        manual_seed(4);
        var reference = nn.BatchNorm2d(3);
        for (var i = 0; i < 3; i++) reference.forward(randn(4, 3, 5, 5).mul(2).add(1));
        using (no_grad()) { reference.weight.uniform_(0.5, 1.5); reference.bias!.uniform_(-1, 1); }
        var engine = new BatchNorm2d(3);
        var (missing, unexpected) = engine.load_state_dict(reference.state_dict());
        Assert.That(missing, Is.Empty);
        Assert.That(unexpected, Is.Empty);
        reference.eval();
        engine.eval();
        var x = randn(2, 3, 5, 5);
        // Eval is the same per-channel affine map from the same float32 numbers: a few ulps.
        Assert.That(NormParity.Relative(reference.forward(x), engine.forward(x)), Is.LessThan(1e-6));
        Assert.That(engine.num_batches_tracked!.item<long>(), Is.EqualTo(3));
    }

    [Test]
    public void Eval_uses_running_statistics_not_the_batch()
    {
        var bn = new BatchNorm1d(2, affine: false);
        using (no_grad()) { bn.running_mean!.copy_(tensor(new[] { 1.0f, -2.0f })); bn.running_var!.copy_(tensor(new[] { 4.0f, 0.25f })); }
        bn.eval();
        var y = bn.forward(tensor(new[] { 3.0f, -1.0f }).reshape(1, 2));   // one sample: fine in eval
        var expected = new[] { (3 - 1) / Math.Sqrt(4 + 1e-5), (-1 + 2) / Math.Sqrt(0.25 + 1e-5) };
        Assert.That(y.data<float>().ToArray(), Is.EqualTo(expected).Within(1e-6));
        Assert.That(bn.num_batches_tracked!.item<long>(), Is.EqualTo(0), "eval does not advance the count");
    }

    [Test]
    public void Composes_with_torchsharp_modules_and_moves_to_float64()
    {
        var model = nn.Sequential(nn.Linear(3, 4), new BatchNorm1d(4), nn.ReLU());
        model.to(ScalarType.Float64);
        var bn = (BatchNorm1d)model[1];
        Assert.That(bn.weight!.dtype, Is.EqualTo(ScalarType.Float64));
        Assert.That(bn.running_var!.dtype, Is.EqualTo(ScalarType.Float64));
        Assert.That(bn.num_batches_tracked!.dtype, Is.EqualTo(ScalarType.Int64), "the count stays an integer, as in PyTorch");
        var names = model.state_dict().Keys.ToArray();
        Assert.That(names, Is.SupersetOf(new[] { "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked" }));
        model.forward(randn(5, 3, dtype: float64)).sum().backward();
        Assert.That(bn.weight.grad, Is.Not.Null);
        Assert.That(model.parameters().Count(), Is.EqualTo(4));
    }
}
