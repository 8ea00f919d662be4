using Engine.Init;

namespace Engine.Tests.Init;

using Init = Engine.Init.Init;

/// <summary>The recipe's final-layer bias: the targets' mean for regression, log priors for
/// imbalanced classes, checked by what they are for: the untrained model's predictions and its
/// initial loss.</summary>
public class FinalLayerBiasTests
{
    [Test]
    public void Regression_bias_is_the_targets_mean_so_the_first_predictions_are_the_mean()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var targets = randn(1000, 3, ScalarType.Float64).mul(tensor(new[] { 2.0, 5.0, 0.1 })).add(tensor(new[] { 50.0, -7.0, 0.3 }));
        using var head = nn.Linear(8, 3, dtype: ScalarType.Float64);
        Init.FinalBiasForRegression_(head.bias!, targets);
        Assert.That(head.bias!.sub(targets.mean([0L])).abs().max().item<double>(), Is.LessThan(1e-12));
        // With the weights at 0 the model predicts the mean, and its MSE is the targets' variance.
        using (no_grad()) head.weight!.zero_();
        var mse = nn.functional.mse_loss(head.call(randn(1000, 8, ScalarType.Float64)), targets, reduction: nn.Reduction.None).mean([0L]);
        Assert.That(mse.sub(targets.var(0, unbiased: false)).abs().max().item<double>(), Is.LessThan(1e-9));

        var one = Init.FinalBiasForRegression_(empty(1), tensor(new[] { 40.0, 50.0, 60.0 }));
        Assert.That(one.item<float>(), Is.EqualTo(50f));
    }

    [Test]
    public void Softmax_bias_is_log_priors_and_the_initial_loss_is_the_priors_entropy()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        // 4 imbalanced classes: 70%, 20%, 9%, 1%.
        var labels = multinomial(tensor(new[] { 0.7, 0.2, 0.09, 0.01 }), 20_000, replacement: true);
        var priors = Init.ClassPriors(labels, 4);
        var bias = Init.FinalBiasForClassPriors_(zeros(4, ScalarType.Float64), priors);
        Assert.That(softmax(bias, 0).sub(priors).abs().max().item<double>(), Is.LessThan(1e-15));
        // Zero weights: every sample's logits are the bias, so the mean cross-entropy is −Σ p log p,
        // below log 4 (what a zero bias gives).
        var logits = bias.expand(20_000, 4);
        double loss = nn.functional.cross_entropy(logits, labels).item<double>();
        double entropy = -priors.mul(priors.log()).sum().item<double>();
        Assert.That(loss, Is.EqualTo(entropy).Within(1e-12));
        Assert.That(nn.functional.cross_entropy(zeros(20_000, 4, ScalarType.Float64), labels).item<double>(), Is.EqualTo(Math.Log(4)).Within(1e-12));
        Assert.That(loss, Is.LessThan(Math.Log(4) - 0.4));
    }

    [Test]
    public void Sigmoid_bias_is_the_prior_log_odds_for_the_recipes_one_to_ten()
    {
        using var scope = NewDisposeScope();
        // 1 positive to 10 negatives: p = 1/11, b = log(p / (1 − p)) = log(1/10), σ(b) = 1/11.
        var bias = Init.FinalBiasForClassPriors_(zeros(1, ScalarType.Float64), tensor(new[] { 1.0 / 11 }), OutputActivation.Sigmoid);
        Assert.That(bias.item<double>(), Is.EqualTo(Math.Log(0.1)).Within(1e-15));
        Assert.That(sigmoid(bias).item<double>(), Is.EqualTo(1.0 / 11).Within(1e-15));
        // Multi-label: each output its own prior, float32 bias.
        var multi = Init.FinalBiasForClassPriors_(zeros(3), tensor(new[] { 0.5, 0.1, 0.9 }), OutputActivation.Sigmoid);
        Assert.That(sigmoid(multi).sub(tensor(new[] { 0.5f, 0.1f, 0.9f })).abs().max().item<float>(), Is.LessThan(1e-7f));
    }

    [Test]
    public void Bad_input_throws()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => Init.FinalBiasForClassPriors_(zeros(3), tensor(new[] { 0.5, 0.5, 0.0 })));        // log 0
        Assert.Throws<ArgumentException>(() => Init.FinalBiasForClassPriors_(zeros(3), tensor(new[] { 0.5, 0.3, 0.3 })));        // sum 1.1
        Assert.Throws<ArgumentException>(() => Init.FinalBiasForClassPriors_(zeros(2), tensor(new[] { 0.5, 0.3, 0.2 })));        // shape
        Assert.Throws<ArgumentException>(() => Init.FinalBiasForClassPriors_(zeros(1), tensor(new[] { 1.0 }), OutputActivation.Sigmoid));
        var ex = Assert.Throws<ArgumentException>(() => Init.FinalBiasForRegression_(zeros(2), zeros(10, 3)));
        Assert.That(ex!.Message, Does.Contain("FinalBiasForRegression_").And.Contain("[2]").And.Contain("[10, 3]"));
        Assert.Throws<ArgumentException>(() => Init.ClassPriors(tensor(new long[] { 0, 3 }), 3));
        Assert.Throws<ArgumentException>(() => Init.ClassPriors(tensor(new[] { 0.5f }), 3));
    }
}
