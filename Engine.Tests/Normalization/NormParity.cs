namespace Engine.Tests.Normalization;

/// <summary>
/// Runs two normalization modules side by side (a reference, usually TorchSharp's built-in, and
/// Engine's) through several training steps and one eval forward, feeding both the same inputs and
/// upstream gradients and applying the same SGD update to each module's own parameters, and records
/// the worst difference of every quantity. Differences are relative to the quantity's scale:
/// max|a − b| / max(1, max|a|), so a tolerance means "this many units of the value's magnitude".
/// </summary>
static class NormParity
{
    /// <summary>
    /// Tolerance for Engine's formula against libtorch's fused kernel, relative to scale. Both compute
    /// the same quantities in different orders: libtorch's kernels reduce per channel in their own
    /// blocking (the CPU batch_norm accumulates in double), Engine's mean() uses cascade sums in the
    /// input dtype, and the backward passes are different algebra (libtorch's closed-form
    /// batch_norm_backward against autograd through the formula's ops). Each reduction here runs
    /// over m ≤ 400 values, so it carries a relative error of order log₂(m)·u (u = 2⁻²⁴ ≈ 6e-8 for
    /// float32, 2⁻⁵³ ≈ 1.1e-16 for float64), and normalized values up to ~5σ and gradients summed over
    /// m terms add a small factor. Worst measured over every case (AMD EPYC, libtorch 2.10 MKL):
    /// 6.8e-7 (float32) and 7.9e-16 (float64), i.e. a few units of u. The tolerances, 1e-5 and 1e-13,
    /// sit more than an order of magnitude (float32) and two (float64) above that: a CPU with another
    /// vector width or FMA use (Intel against AMD) reorders the sums, which moves the rounding but not
    /// its order of magnitude. A wrong formula (biased for unbiased variance, a missing ε, a
    /// mis-broadcast γ) shows as 1e-3 or more.
    /// </summary>
    public static double Tolerance(ScalarType dtype) => dtype == ScalarType.Float64 ? 1e-13 : 1e-5;

    public sealed class Worst
    {
        public double Output, InputGrad, WeightGrad, BiasGrad, RunningMean, RunningVar, EvalOutput;
        public double Max => new[] { Output, InputGrad, WeightGrad, BiasGrad, RunningMean, RunningVar, EvalOutput }.Max();
        public override string ToString() =>
            $"out {Output:E1}, dx {InputGrad:E1}, dγ {WeightGrad:E1}, dβ {BiasGrad:E1}, running_mean {RunningMean:E1}, running_var {RunningVar:E1}, eval {EvalOutput:E1}";
    }

    /// <summary>max|a − b| / max(1, max|a|), computed in float64.</summary>
    public static double Relative(Tensor expected, Tensor actual)
    {
        Assert.That(actual.shape, Is.EqualTo(expected.shape), "shapes differ");
        using var scope = NewDisposeScope();
        var e = expected.detach().to(float64);
        var a = actual.detach().to(float64);
        var diff = e.sub(a).abs().max().item<double>();
        var scale = Math.Max(1.0, e.abs().max().item<double>());
        return diff / scale;
    }

    /// <summary>
    /// Both modules get the reference's (randomized) parameters, then <paramref name="steps"/> training
    /// steps on inputs N(offset, scale²) with an offset and scale that change per step (so running
    /// statistics move), then one eval forward. Parameter and buffer names must agree (state_dict
    /// interoperability); num_batches_tracked must agree exactly.
    /// </summary>
    public static Worst Run(nn.Module<Tensor, Tensor> reference, nn.Module<Tensor, Tensor> engine, long[] shape,
        ScalarType dtype, int steps = 4, double lr = 0.1, bool positive = false)
    {
        var worst = new Worst();
        var refParams = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var engParams = engine.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.That(engParams.Keys, Is.EquivalentTo(refParams.Keys), "parameter names");
        var refBuffers = reference.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        var engBuffers = engine.named_buffers().ToDictionary(b => b.name, b => b.buffer);
        Assert.That(engBuffers.Keys, Is.EquivalentTo(refBuffers.Keys), "buffer names");
        Assert.That(engine.state_dict().Keys, Is.EquivalentTo(reference.state_dict().Keys), "state_dict keys");

        using (no_grad())
            foreach (var (name, p) in refParams)
            {
                // γ near 1 and β near 0 but not equal to them, so a swapped or missing term shows.
                using var r = name == "weight" ? randn(p.shape, dtype: p.dtype).mul_(0.3).add_(1) : randn(p.shape, dtype: p.dtype).mul_(0.3);
                p.copy_(r);
                engParams[name].copy_(r);
            }

        reference.train();
        engine.train();
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var x = Input(shape, dtype, step, positive);
            var xa = x.clone().requires_grad_();
            var xb = x.clone().requires_grad_();
            var ya = reference.forward(xa);
            var yb = engine.forward(xb);
            worst.Output = Math.Max(worst.Output, Relative(ya, yb));
            var g = randn_like(ya);
            ya.mul(g).sum().backward();
            yb.mul(g).sum().backward();
            worst.InputGrad = Math.Max(worst.InputGrad, Relative(xa.grad!, xb.grad!));
            foreach (var (name, p) in refParams)
            {
                var d = Relative(p.grad!, engParams[name].grad!);
                if (name == "weight") worst.WeightGrad = Math.Max(worst.WeightGrad, d);
                else worst.BiasGrad = Math.Max(worst.BiasGrad, d);
            }
            using (no_grad())
                foreach (var (name, p) in refParams)
                {
                    p.sub_(p.grad!.mul(lr));
                    engParams[name].sub_(engParams[name].grad!.mul(lr));
                    p.grad!.zero_();
                    engParams[name].grad!.zero_();
                }
            CompareBuffers(refBuffers, engBuffers, worst);
        }

        reference.eval();
        engine.eval();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var x = Input(shape, dtype, steps, positive);
            worst.EvalOutput = Relative(reference.forward(x), engine.forward(x));
        }
        return worst;
    }

    static void CompareBuffers(Dictionary<string, Tensor> reference, Dictionary<string, Tensor> engine, Worst worst)
    {
        foreach (var (name, b) in reference)
        {
            if (name == "num_batches_tracked")
            {
                // TorchSharp makes its count in the module's dtype when one is given (float32 or
                // float64 here); Engine keeps PyTorch's int64. The values must agree exactly.
                Assert.That(engine[name].dtype, Is.EqualTo(ScalarType.Int64));
                Assert.That(engine[name].item<long>(), Is.EqualTo((long)b.to(ScalarType.Float64).item<double>()), "num_batches_tracked");
            }
            else if (name == "running_mean") worst.RunningMean = Math.Max(worst.RunningMean, Relative(b, engine[name]));
            else if (name == "running_var") worst.RunningVar = Math.Max(worst.RunningVar, Relative(b, engine[name]));
        }
    }

    /// <summary>Per-step input: N(offset, scale²) with a step-dependent offset and scale, or |·| of it.</summary>
    public static Tensor Input(long[] shape, ScalarType dtype, int step, bool positive = false)
    {
        var x = randn(shape, dtype: dtype).mul_(1.5 + 0.25 * step).add_(0.5 - 0.3 * step);
        return positive ? x.abs_() : x;
    }

    public static void Report(string what, Worst worst) => TestContext.Out.WriteLine($"{what}: {worst}");
}
