using Engine.Nn;
using Engine.Optim;

namespace Engine.Tests.Optim;

/// <summary>One parameter tensor as a float64 reference implementation sees it: plain arrays.</summary>
public sealed class RefParam
{
    public required double[] W;
    public required long[] Shape;
    public required bool NoWeightDecay;
    /// <summary>The reference's own state, by name (m, v, ...), created on first use.</summary>
    public readonly Dictionary<string, double[]> State = new();
    public double[] Buffer(string name, int length) =>
        State.TryGetValue(name, out var b) ? b : State[name] = new double[length];
    public long Rows => Shape.Length >= 2 ? Shape[^2] : 1;
    public long Cols => Shape.Length >= 2 ? Shape[^1] : W.Length;
}

/// <summary>Checks every optimizer goes through: against a float64 reference written from the
/// paper, and resuming from a state dict.</summary>
internal static class OptimizerChecks
{
    /// <summary>
    /// Drives the harness's model A with the engine optimizer and a float64 copy of the same
    /// weights with <paramref name="referenceStep"/> (params, grads, t), whose gradients come from
    /// model B set to the reference weights. Returns the largest relative difference between the
    /// two over the first 10 steps and over every step, and how far the reference weights moved
    /// from their start (so a test can tell agreement from standing still).
    /// </summary>
    public static (double FirstSteps, double Worst, double Moved) AgainstReference(Func<Tensor[], Optimizer> make,
        Action<RefParam[], double[][], int> referenceStep, int steps = 100, double floor = 1e-3)
    {
        using var h = new OptimizerHarness(ScalarType.Float64);
        using var optimizer = make(h.ParamsA);
        var pa = h.ParamsA;
        var pb = h.ParamsB;
        var refs = pb.Select(p => new RefParam { W = p.ToArray<double>(), Shape = p.Shape, NoWeightDecay = ((Parameter)p).NoWeightDecay }).ToArray();
        var start = refs.Select(r => (double[])r.W.Clone()).ToArray();
        double worst = 0, firstSteps = 0;
        for (int t = 1; t <= steps; t++)
        {
            using var scope = DisposeScope.Begin();
            h.LossAndBackward(h.A);
            optimizer.Step();

            using (Torch.NoGrad())
                for (int i = 0; i < pb.Length; i++) pb[i].Copy_(Torch.FromSpan<double>(refs[i].W, refs[i].Shape, Device.CPU));
            h.LossAndBackward(h.B);
            var grads = pb.Select(p => p.Grad!.ToArray<double>()).ToArray();
            referenceStep(refs, grads, t);

            for (int i = 0; i < pa.Length; i++)
            {
                var a = pa[i].ToArray<double>();
                for (int j = 0; j < a.Length; j++)
                    worst = Math.Max(worst, Math.Abs(a[j] - refs[i].W[j]) / (Math.Abs(refs[i].W[j]) + floor));
            }
            if (t <= 10) firstSteps = worst;
        }
        double moved = 0;
        for (int i = 0; i < refs.Length; i++)
            for (int j = 0; j < refs[i].W.Length; j++) moved = Math.Max(moved, Math.Abs(refs[i].W[j] - start[i][j]));
        return (firstSteps, worst, moved);
    }

    /// <summary>
    /// The engine optimizer follows the float64 reference over <paramref name="steps"/> steps:
    /// within 1e-13 relative over the first 10 steps (a wrong formula shows here, at 1e-6 or
    /// more) and 1e-11 over the whole run (float64 rounding — norm summation order, FMA
    /// contraction — starts near 1e-16 and grows along the trajectory, to 1e-14–8e-12 by step 100
    /// in these tests),
    /// and the weights moved by more than <paramref name="minMoved"/>.
    /// </summary>
    public static void AssertMatchesReference(Func<Tensor[], Optimizer> make, Action<RefParam[], double[][], int> referenceStep,
        int steps = 100, double minMoved = 1e-2)
    {
        var (firstSteps, worst, moved) = AgainstReference(make, referenceStep, steps);
        TestContext.Out.WriteLine($"max relative difference: {firstSteps:e2} over 10 steps, {worst:e2} over {steps}; weights moved up to {moved:e2}");
        Assert.That(firstSteps, Is.LessThan(1e-13), "max relative difference over the first 10 steps");
        Assert.That(worst, Is.LessThan(1e-11), $"max relative difference over {steps} steps");
        Assert.That(moved, Is.GreaterThan(minMoved), "the weights must move, or agreement proves nothing");
    }

    /// <summary>
    /// 50 steps, <see cref="Optimizer.StateDict"/>, a new optimizer that loads it, 50 more steps:
    /// returns the largest relative difference from 100 uninterrupted steps (0 when exact).
    /// Steps go through closures, so closure-only optimizers (L-BFGS) work too.
    /// </summary>
    public static double ResumeDifference(Func<Tensor[], Optimizer> make, ScalarType dtype = ScalarType.Float64,
        int before = 50, int after = 50)
    {
        using var h = new OptimizerHarness(dtype);
        using var whole = make(h.ParamsA);
        for (int step = 0; step < before + after; step++)
        {
            using var scope = DisposeScope.Begin();
            whole.Step(() => h.LossAndBackward(h.A));
        }

        OptimizerState saved;
        using (var first = make(h.ParamsB))
        {
            for (int step = 0; step < before; step++)
            {
                using var scope = DisposeScope.Begin();
                first.Step(() => h.LossAndBackward(h.B));
            }
            saved = first.StateDict();
        }
        using (saved)
        using (var resumed = make(h.ParamsB))
        {
            resumed.LoadStateDict(saved);
            for (int step = 0; step < after; step++)
            {
                using var scope = DisposeScope.Begin();
                resumed.Step(() => h.LossAndBackward(h.B));
            }
        }
        return h.MaxRelativeDifference();
    }

    public static double Norm(ReadOnlySpan<double> x)
    {
        double s = 0;
        foreach (var v in x) s += v * v;
        return Math.Sqrt(s);
    }
}
