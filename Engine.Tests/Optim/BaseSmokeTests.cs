using Engine.Optim;

namespace Engine.Tests.Optim;

public class BaseSmokeTests
{
    static (Parameter[] ps, Func<Tensor> loss) Problem(ScalarType dtype, int seed)
    {
        manual_seed(seed);
        var ps = new[] { new Parameter(randn(new long[] { 7, 5 }, dtype)), new Parameter(randn(new long[] { 7 }, dtype)), new Parameter(randn(new long[] { 3, 7 }, dtype)) };
        var x = randn(new long[] { 16, 5 }, dtype).DetachFromDisposeScope();
        return (ps, () => ps[2].matmul(ps[0].matmul(x.T).add(ps[1].unsqueeze(1)).tanh()).pow(2).mean());
    }

    [TestCase(Implementation.Readable, ScalarType.Float64)]
    [TestCase(Implementation.Fused, ScalarType.Float64)]
    [TestCase(Implementation.Flat, ScalarType.Float64)]
    [TestCase(Implementation.Readable, ScalarType.Float32)]
    [TestCase(Implementation.Fused, ScalarType.Float32)]
    [TestCase(Implementation.Flat, ScalarType.Float32)]
    public void Adam_matches_torchsharp(Implementation impl, ScalarType dtype)
    {
        var (a, la) = Problem(dtype, 1);
        var (b, lb) = Problem(dtype, 1);
        using var ours = new Engine.Optim.Adam(a, lr: 0.01, weightDecay: 0.1, amsgrad: true) { Implementation = impl };
        using var theirs = torch.optim.Adam(b, lr: 0.01, weight_decay: 0.1, amsgrad: true);
        for (int i = 0; i < 200; i++)
        {
            using var scope = NewDisposeScope();
            ours.zero_grad(); la().backward(); ours.step();
            theirs.zero_grad(); lb().backward(); theirs.step();
        }
        double worst = 0;
        for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, (a[i] - b[i]).abs().max().ToDouble());
        TestContext.Out.WriteLine($"{impl} {dtype}: {worst:E2}");
        Assert.That(worst, Is.LessThan(dtype == ScalarType.Float64 ? 1e-12 : 1e-4));
    }
}
