using Engine.Normalization;
using Linear = TorchSharp.Modules.Linear;
using Sequential = TorchSharp.Modules.Sequential;

namespace Engine.Tests.Normalization;

/// <summary>
/// BatchNorm folding: W', b' against TorchSharp 0.107's nn.utils.fuse_conv_bn_weights and
/// fuse_linear_bn_weights, and a whole model folded against its unfolded self in eval.
/// </summary>
public class BatchNormFoldingTests
{
    // Tolerances: float64, the same few ops in another order: 1e-13 relative. float32: the folded
    // layer rounds W' = s·W once more and sums its products in a different order than the conv/linear
    // followed by the BatchNorm's affine map; over fan-ins up to 8·3·3 = 72 this stays near
    // 1e-6 relative; 2e-5 holds on any CPU summation order.
    static double Tolerance(ScalarType dtype) => dtype == ScalarType.Float64 ? 1e-13 : 2e-5;

    [TestCase(ScalarType.Float32, true, true)]
    [TestCase(ScalarType.Float32, false, false)]
    [TestCase(ScalarType.Float64, true, true)]
    [TestCase(ScalarType.Float64, false, true)]
    public void Weights_match_torchsharp_fuse_conv_bn_weights(ScalarType dtype, bool convBias, bool affine)
    {
        manual_seed(71);
        var w = randn(6, 3, 3, 3, dtype: dtype);
        var b = convBias ? randn(6, dtype: dtype) : null;
        var mean = randn(6, dtype: dtype);
        var variance = rand(6, dtype: dtype).add(0.2);
        var gamma = affine ? randn(6, dtype: dtype) : null;
        var beta = affine ? randn(6, dtype: dtype) : null;
        var (ew, eb) = BatchNormFolding.FoldWeights(w, b, mean, variance, 1e-3, gamma, beta);
        // TorchSharp wants every tensor; a missing bias, γ, β is 0, 1, 0 (what PyTorch substitutes).
        var (tw, tb) = nn.utils.fuse_conv_bn_weights(w, b ?? zeros(6, dtype: dtype), mean, variance, 1e-3,
            gamma ?? ones(6, dtype: dtype), beta ?? zeros(6, dtype: dtype));
        var dw = NormParity.Relative(tw, ew);
        var db = NormParity.Relative(tb, eb);
        TestContext.Out.WriteLine($"fold conv {dtype}: W' {dw:E1}, b' {db:E1}");
        Assert.That(dw, Is.LessThanOrEqualTo(Tolerance(dtype)));
        Assert.That(db, Is.LessThanOrEqualTo(Tolerance(dtype)));
    }

    [TestCase(ScalarType.Float32)]
    [TestCase(ScalarType.Float64)]
    public void Weights_match_torchsharp_fuse_linear_bn_weights(ScalarType dtype)
    {
        manual_seed(72);
        var w = randn(5, 8, dtype: dtype);
        var b = randn(5, dtype: dtype);
        var mean = randn(5, dtype: dtype);
        var variance = rand(5, dtype: dtype).add(0.2);
        var gamma = randn(5, dtype: dtype);
        var beta = randn(5, dtype: dtype);
        var (ew, eb) = BatchNormFolding.FoldWeights(w, b, mean, variance, 1e-5, gamma, beta);
        var (tw, tb) = nn.utils.fuse_linear_bn_weights(w, b, mean, variance, 1e-5, gamma, beta);
        var dw = NormParity.Relative(tw, ew);
        var db = NormParity.Relative(tb, eb);
        TestContext.Out.WriteLine($"fold linear {dtype}: W' {dw:E1}, b' {db:E1}");
        Assert.That(dw, Is.LessThanOrEqualTo(Tolerance(dtype)));
        Assert.That(db, Is.LessThanOrEqualTo(Tolerance(dtype)));
    }

    static Sequential Model(ScalarType dtype) => nn.Sequential(
        ("conv1", nn.Conv2d(3, 8, 3, padding: 1, dtype: dtype)),
        ("bn1", nn.BatchNorm2d(8, dtype: dtype)),                            // TorchSharp's BatchNorm
        ("relu1", nn.ReLU()),
        ("block", nn.Sequential(
            ("conv2", nn.Conv2d(8, 8, 3, stride: 2, padding: 1, groups: 2, bias: false, dtype: dtype)),
            ("bn2", new BatchNorm2d(8, dtype: dtype)),                       // Engine's, after a conv without bias
            ("relu2", nn.ReLU()))),
        ("flat", nn.Flatten()),
        ("fc1", nn.Linear(8 * 4 * 4, 16, dtype: dtype)),
        ("bn3", new BatchNorm1d(16, affine: false, dtype: dtype)),           // no γ, β
        ("relu3", nn.ReLU()),
        ("fc2", nn.Linear(16, 10, dtype: dtype)));

    [TestCase(ScalarType.Float32)]
    [TestCase(ScalarType.Float64)]
    public void Folded_model_gives_the_unfolded_models_outputs(ScalarType dtype)
    {
        manual_seed(73);
        var model = Model(dtype);
        using (no_grad())
            for (var i = 0; i < 5; i++) model.forward(randn(8, 3, 8, 8, dtype: dtype).mul(2).add(0.5));   // running statistics move away from 0, 1
        using (no_grad())
            foreach (var m in model.modules())
                if (m is TorchSharp.Modules.BatchNorm tbn) { tbn.weight.uniform_(0.5, 1.5); tbn.bias!.uniform_(-0.5, 0.5); }
                else if (m is Engine.Normalization.BatchNorm { affine: true } ebn) { ebn.weight!.uniform_(0.5, 1.5); ebn.bias!.uniform_(-0.5, 0.5); }
        model.eval();

        var folded = BatchNormFolding.Fold(model);
        var kinds = folded.modules().Select(m => m.GetType().Name).ToList();
        Assert.That(kinds, Has.None.Contains("BatchNorm"), string.Join(", ", kinds));
        Assert.That(folded.named_children().Select(c => c.name), Is.EqualTo(new[] { "conv1", "relu1", "block", "flat", "fc1", "relu3", "fc2" }));

        using var _ = no_grad();
        var x = randn(4, 3, 8, 8, dtype: dtype);
        var diff = NormParity.Relative(model.forward(x), folded.forward(x));
        TestContext.Out.WriteLine($"folded model {dtype}: {diff:E1}");
        Assert.That(diff, Is.LessThanOrEqualTo(Tolerance(dtype) * 5), "three folds in a row compound the float32 rounding");
    }

    [Test]
    public void Folded_linear_matches_torchsharp_fuse_linear_bn_eval()
    {
        manual_seed(74);
        var linear = nn.Linear(6, 4);
        var bn = nn.BatchNorm1d(4);
        for (var i = 0; i < 3; i++) bn.forward(linear.forward(randn(10, 6)).detach());
        bn.eval();
        linear.eval();
        var folded = (Linear)BatchNormFolding.Fold(nn.Sequential(("fc", linear), ("bn", bn)))[0];
        var reference = nn.utils.fuse_linear_bn_eval(linear, bn);
        Assert.That(NormParity.Relative(reference.weight, folded.weight), Is.LessThanOrEqualTo(2e-5));
        Assert.That(NormParity.Relative(reference.bias!, folded.bias!), Is.LessThanOrEqualTo(2e-5));
    }

    [Test]
    public void Refuses_a_batchnorm_in_training_mode_or_without_running_stats_or_with_other_channels()
    {
        var training = nn.Sequential(("fc", nn.Linear(3, 4)), ("bn", new BatchNorm1d(4)));
        var e = Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(training))!;
        Assert.That(e.Message, Does.Contain("training mode").And.Contain("'fc'").And.Contain("BatchNorm1d"));

        var untracked = nn.Sequential(("fc", nn.Linear(3, 4)), ("bn", new BatchNorm1d(4, track_running_stats: false)));
        untracked.eval();
        Assert.That(Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(untracked))!.Message, Does.Contain("running statistics"));

        var mismatch = nn.Sequential(("conv", nn.Conv2d(3, 4, 3)), ("bn", nn.BatchNorm2d(5)));
        mismatch.eval();
        Assert.That(Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(mismatch))!.Message, Does.Contain("4 output channels").And.Contain("num_features = 5"));
    }
}
