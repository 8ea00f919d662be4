using Engine.Averaging;

namespace Engine.Tests.Averaging;

/// <summary>SWA's running mean and UpdateBatchNorm against float64 formulas written here.</summary>
public class StochasticWeightAveragingTests
{
    [Test]
    public void Swa_is_the_equal_weight_mean_of_the_updates_float64()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        var model = nn.Linear(6, 5);
        using var swa = new StochasticWeightAveraging(model);
        var sums = model.named_parameters().ToDictionary(p => p.name, p => zeros_like(p.parameter).to(ScalarType.Float64));
        const int K = 25;
        for (int k = 0; k < K; k++)
        {
            using (no_grad()) foreach (var p in model.parameters()) p.normal_(k * 0.1, 1.0);
            swa.Update(model);
            foreach (var (name, p) in model.named_parameters()) sums[name] = sums[name].add(p.detach().to(ScalarType.Float64));
        }
        foreach (var (name, sum) in sums)
        {
            var err = SwaFixture.MaxAbsDiff(swa[name], sum.div(K));
            // The running mean rounds twice per update in float32 (ulp ~2.4e-7 at |θ| ~ 2-4) and each
            // update's error is scaled by n/(n+1): at most K·2 ulps, about 1e-5; measured far below.
            TestContext.Out.WriteLine($"{name}: max |Δ| vs float64 mean {err:E2}");
            Assert.That(err, Is.LessThan(1e-5), $"{name}: {err:E2}");
        }
    }

    [Test]
    public void UpdateBatchNorm_gives_the_mean_of_batch_statistics_float64()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        var bn = nn.BatchNorm2d(3);
        var model = nn.Sequential(("0", nn.Identity()), ("1", bn));
        var batches = new[] { randn(4, 3, 2, 2).mul(2).add(1), randn(6, 3, 2, 2), randn(2, 3, 2, 2).sub(3) };
        var expectedMean = new double[3];
        var expectedVar = new double[3];
        foreach (var b in batches)
        {
            var x = b.to(ScalarType.Float64);
            for (int c = 0; c < 3; c++)
            {
                var v = x.select(1, c).flatten().data<double>().ToArray();
                double m = v.Average();
                expectedMean[c] += m / batches.Length;
                expectedVar[c] += v.Sum(y => (y - m) * (y - m)) / (v.Length - 1) / batches.Length; // unbiased per batch
            }
        }
        bn.running_mean!.fill_(5); // stale statistics must not leak in
        Assert.That(StochasticWeightAveraging.UpdateBatchNorm(model, batches), Is.EqualTo(1));
        // float32 batch statistics over ≤ 24 values each: a few ulps on values O(1-10).
        Assert.That(SwaFixture.MaxAbsDiff(bn.running_mean!, tensor(expectedMean)), Is.LessThan(1e-5));
        Assert.That(SwaFixture.MaxAbsDiff(bn.running_var!, tensor(expectedVar)), Is.LessThan(1e-5));
        Assert.That(bn.num_batches_tracked!.item<long>(), Is.EqualTo(3));
        Assert.That(bn.momentum, Is.EqualTo(0.1));
    }

    [Test]
    public void UpdateBatchNorm_restores_each_modules_own_mode()
    {
        using var scope = NewDisposeScope();
        var bn = new Engine.Normalization.BatchNorm1d(4);
        var dropout = nn.Dropout(0.5);
        var model = nn.Sequential(("0", nn.Linear(3, 4)), ("1", bn), ("2", dropout));
        model.train();
        dropout.eval(); // mixed modes: PyTorch would set all to the model's
        StochasticWeightAveraging.UpdateBatchNorm(model, [randn(5, 3)]);
        Assert.That(model.training, Is.True);
        Assert.That(bn.training, Is.True);
        Assert.That(dropout.training, Is.False);
        Assert.That(bn.momentum, Is.EqualTo(0.1));
    }

    [Test]
    public void UpdateBatchNorm_without_batchnorm_is_a_noop_that_reads_nothing()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("0", nn.Linear(3, 4)), ("1", nn.ReLU()));
        IEnumerable<Tensor> Never() => Enumerable.Range(0, 1).Select<int, Tensor>(_ => throw new AssertionException("the inputs were read"));
        var logger = new ListLogger();
        Assert.That(StochasticWeightAveraging.UpdateBatchNorm(model, Never(), logger), Is.EqualTo(0));
        Assert.That(logger.Messages.Single(), Does.Contain("no BatchNorm"));
    }

    [Test]
    public void UpdateBatchNorm_with_no_batches_is_an_error()
    {
        using var scope = NewDisposeScope();
        var bn = nn.BatchNorm1d(4, momentum: 0.2);
        var model = nn.Sequential(("0", bn));
        var ex = Assert.Throws<ArgumentException>(() => StochasticWeightAveraging.UpdateBatchNorm(model, Array.Empty<Tensor>()));
        Assert.That(ex!.Message, Does.Contain("no batch"));
        Assert.That(bn.momentum, Is.EqualTo(0.2), "momentum restored even on error");
    }

    sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Messages { get; } = new();
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add(formatter(state, exception));
    }
}
