using Engine.Optim;
using Engine.Regularization;

namespace Engine.Tests.Regularization;

using static RegularizationAssert;

public class PenaltyTests
{
    static nn.Module<Tensor, Tensor> Model(int seed)
    {
        manual_seed(seed);
        var model = nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.ReLU(), nn.Linear(8, 3));
        model.to(ScalarType.Float64);
        return model;
    }

    static Tensor DataLoss(nn.Module<Tensor, Tensor> model, Tensor x, Tensor y) => model.forward(x).sub(y).square().mean();

    static double[] Flat(nn.Module model) => model.parameters().SelectMany(p => p.detach().data<double>().ToArray()).ToArray();

    [Test]
    public void Penalties_equal_the_seed_formulas_and_skip_biases_and_norm_weights()
    {
        using var scope = NewDisposeScope();
        var model = Model(90);
        var selected = ParameterSelection.Decayed(model);
        var names = model.named_parameters().Where(np => selected.Any(s => ReferenceEquals(s, np.parameter))).Select(np => np.name).ToArray();
        Assert.That(names, Is.EqualTo(new[] { "0.weight", "3.weight" }), "only the Linear weights: no biases, no LayerNorm weight");
        Assert.That(ParameterSelection.NotDecayed(model).Count, Is.EqualTo(4));

        double l1 = 0, l2 = 0;
        foreach (var p in selected)
            foreach (var v in p.detach().data<double>().ToArray()) { l1 += Math.Abs(v); l2 += v * v; }
        // Sums of 72 float64 terms in different orders: ~1e-15 relative.
        Assert.That(Penalty.L1(model, 0.01).item<double>(), Is.EqualTo(0.01 * l1).Within(1e-13).Percent);
        Assert.That(Penalty.L2(model, 0.02).item<double>(), Is.EqualTo(0.02 * l2).Within(1e-13).Percent);
        Assert.That(Penalty.ElasticNet(model, 0.01, 0.02).item<double>(), Is.EqualTo(0.01 * l1 + 0.02 * l2).Within(1e-13).Percent);
        Assert.Throws<ArgumentOutOfRangeException>(() => Penalty.L2(model, -1));
    }

    [Test]
    public void L2_penalty_under_sgd_is_weight_decay_of_twice_lambda()
    {
        using var scope = NewDisposeScope();
        const double lr = 0.1, lambda = 0.03;
        manual_seed(91);
        var x = randn(32, 6, ScalarType.Float64);
        var y = randn(32, 3, ScalarType.Float64);
        var penalized = Model(92);
        var decayed = Model(92);
        var decoupled = Model(92);
        var sgdPenalty = optim.SGD(penalized.parameters(), lr);
        var sgdDecay = optim.SGD(decayed.parameters(), lr, weight_decay: 2 * lambda);
        for (int step = 0; step < 15; step++)
        {
            using var inner = NewDisposeScope();
            sgdPenalty.zero_grad();
            DataLoss(penalized, x, y).add(Penalty.L2(penalized.parameters(), lambda)).backward();
            sgdPenalty.step();
            sgdDecay.zero_grad();
            DataLoss(decayed, x, y).backward();
            sgdDecay.step();
            // Decoupled form, as the seed writes weight decay: w ← w − η·g − η·(2λ)·w.
            decoupled.zero_grad();
            DataLoss(decoupled, x, y).backward();
            using (no_grad())
                foreach (var p in decoupled.parameters()) { var w = p.detach().clone(); p.sub_(p.grad!.mul(lr)).sub_(w.mul(lr * 2 * lambda)); }
        }
        // 2λw vs λ·(2w) and the order of the two subtractions differ by an ulp per step; 15 steps of a
        // contracting map keep that near 1e-15 relative.
        Close(tensor(Flat(penalized)), tensor(Flat(decayed)), 1e-12, "SGD + λΣw² vs SGD(weight_decay = 2λ)");
        Close(tensor(Flat(penalized)), tensor(Flat(decoupled)), 1e-12, "SGD + λΣw² vs w ← w − η·g − η·2λ·w");
    }

    [Test]
    public void L2_penalty_under_adam_is_coupled_decay_not_adamw()
    {
        using var scope = NewDisposeScope();
        const double lr = 0.01, lambda = 0.05;
        manual_seed(93);
        var x = randn(32, 6, ScalarType.Float64);
        var y = randn(32, 3, ScalarType.Float64);
        var penalized = Model(94);
        var coupled = Model(94);
        var adamW = Model(94);
        var optPenalty = new Adam(penalized.parameters(), lr);
        var optCoupled = new Adam(coupled.parameters(), lr, weightDecay: 2 * lambda);
        var optAdamW = new AdamW(adamW.parameters(), lr, weightDecay: 2 * lambda);
        for (int step = 0; step < 20; step++)
        {
            using var inner = NewDisposeScope();
            optPenalty.zero_grad();
            DataLoss(penalized, x, y).add(Penalty.L2(penalized.parameters(), lambda)).backward();
            optPenalty.step();
            optCoupled.zero_grad();
            DataLoss(coupled, x, y).backward();
            optCoupled.step();
            optAdamW.zero_grad();
            DataLoss(adamW, x, y).backward();
            optAdamW.step();
        }
        // Adam's weight_decay adds 2λw to the gradient, the same as the penalty (ulps per step, as above,
        // amplified by Adam's division by √v̂ for small v̂: 1e-9 leaves ample room).
        Close(tensor(Flat(penalized)), tensor(Flat(coupled)), 1e-9, "Adam + λΣw² vs Adam(weight_decay = 2λ)");
        double difference = RelativeError(tensor(Flat(penalized)), tensor(Flat(adamW)));
        TestContext.Out.WriteLine($"Adam + λΣw² vs AdamW(weight_decay = 2λ): relative difference {difference:G3}");
        Assert.That(difference, Is.GreaterThan(1e-2), "the penalty's gradient is rescaled by Adam; decoupled decay is not");
    }

    [Test]
    public void Proximal_l1_reaches_exact_zeros_where_the_subgradient_does_not()
    {
        using var scope = NewDisposeScope();
        const double lr = 0.05, lambda = 0.1;
        manual_seed(95);
        var x = randn(200, 20, ScalarType.Float64);
        var truth = zeros(20, ScalarType.Float64);
        truth[0] = 2.0; truth[3] = -1.5; truth[7] = 1.0; truth[12] = -0.8; truth[19] = 0.6;
        var y = x.matmul(truth) + randn(200, ScalarType.Float64) * 0.1;
        var subgradient = new Parameter(zeros(20, ScalarType.Float64));
        var proximal = new Parameter(zeros(20, ScalarType.Float64));
        for (int step = 0; step < 500; step++)
        {
            using var inner = NewDisposeScope();
            subgradient.grad?.zero_();
            x.matmul(subgradient).sub(y).square().mean().mul(0.5).add(Penalty.L1([subgradient], lambda)).backward();
            using (no_grad()) subgradient.sub_(subgradient.grad!.mul(lr));

            proximal.grad?.zero_();
            x.matmul(proximal).sub(y).square().mean().mul(0.5).backward();
            using (no_grad()) proximal.sub_(proximal.grad!.mul(lr));
            Penalty.ProximalL1([proximal], lr, lambda);
        }
        long subgradientZeros = subgradient.eq(0).sum().item<long>();
        long proximalZeros = proximal.eq(0).sum().item<long>();
        TestContext.Out.WriteLine($"exact zeros of 15 true zeros: subgradient {subgradientZeros}, proximal {proximalZeros}");
        Assert.That(subgradientZeros, Is.EqualTo(0), "the subgradient step oscillates around 0 by ±ηλ");
        Assert.That(proximalZeros, Is.GreaterThanOrEqualTo(12));
        Assert.That(proximal.index(tensor(new long[] { 0, 3, 7, 12, 19 })).ne(0).all().item<bool>(), Is.True, "the true support survives");
    }

    [Test]
    public void Proximal_l1_is_soft_thresholding()
    {
        using var scope = NewDisposeScope();
        double[] values = [-1.0, -0.02, -0.01, 0.0, 0.005, 0.01, 0.3];
        var w = new Parameter(tensor(values, ScalarType.Float64));
        Penalty.ProximalL1([w], 0.1, 0.1); // threshold 0.01
        var expected = values.Select(v => Math.Sign(v) * Math.Max(Math.Abs(v) - 0.01, 0)).ToArray();
        Close(w, tensor(expected, ScalarType.Float64), 1e-15, "soft-thresholding");
        Assert.That(w.eq(0).sum().item<long>(), Is.EqualTo(4));
    }
}
