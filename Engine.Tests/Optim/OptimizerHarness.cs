using TorchSharp.Modules;

namespace Engine.Tests.Optim;

/// <summary>Two copies of the same small MLP (Linear(6,16) → Tanh → Linear(16,3)) on one fixed
/// batch: one driven by the optimizer under test, one by a reference; their parameters are then
/// compared element by element.</summary>
internal sealed class OptimizerHarness : IDisposable
{
    public readonly Sequential A, B;
    readonly Tensor _x, _y;

    public OptimizerHarness(ScalarType dtype, int seed = 7)
    {
        manual_seed(seed);
        A = Make(dtype);
        B = Make(dtype);
        using (no_grad())
            foreach (var (pa, pb) in A.parameters().Zip(B.parameters())) pb.copy_(pa);
        _x = randn(new long[] { 32, 6 }, dtype).DetachFromDisposeScope();
        _y = randint(0, 3, new long[] { 32 }).DetachFromDisposeScope();
    }

    /// <summary>The harness's model, with its own fresh parameters.</summary>
    public static Sequential Make(ScalarType dtype) =>
        nn.Sequential(nn.Linear(6, 16, dtype: dtype), nn.Tanh(), nn.Linear(16, 3, dtype: dtype));

    /// <summary>Mean cross-entropy of <paramref name="model"/> on the fixed batch, after zeroing its
    /// gradients in place (so a flat optimizer's gradient views stay views) and calling backward.</summary>
    public Tensor LossAndBackward(nn.Module<Tensor, Tensor> model)
    {
        ZeroInPlace(model);
        var loss = nn.functional.cross_entropy(model.call(_x), _y);
        loss.backward();
        return loss;
    }

    /// <summary>Zeroes every gradient of <paramref name="model"/> in place (none stays none).</summary>
    public static void ZeroInPlace(nn.Module model)
    {
        using var noGrad = no_grad();
        foreach (var p in model.parameters())
        {
            using var g = p.grad;
            g?.zero_();
        }
    }

    public Parameter[] ParamsA => A.parameters().ToArray();
    public Parameter[] ParamsB => B.parameters().ToArray();

    /// <summary>Largest |a − b| / (|b| + floor) over every parameter element of A and B.</summary>
    public double MaxRelativeDifference(double floor = 1e-3) => MaxRelativeDifference(ParamsA, ParamsB, floor);

    /// <summary>Largest |a − b| / (|b| + floor) over every element of two parameter lists.</summary>
    public static double MaxRelativeDifference(IReadOnlyList<Tensor> a, IReadOnlyList<Tensor> b, double floor = 1e-3)
    {
        double worst = 0;
        for (int k = 0; k < a.Count; k++)
        {
            var x = Values(a[k]);
            var y = Values(b[k]);
            for (int i = 0; i < x.Length; i++) worst = Math.Max(worst, Math.Abs(x[i] - y[i]) / (Math.Abs(y[i]) + floor));
        }
        return worst;
    }

    /// <summary>Same shape and bit-for-bit the same values (TorchSharp's Tensor.equal is elementwise).</summary>
    public static bool Identical(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype) return false;
        using var scope = NewDisposeScope();
        return a.eq(b).all().item<bool>();
    }

    /// <summary>A tensor's elements as float64, flattened.</summary>
    public static double[] Values(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.detach().to(ScalarType.Float64).cpu().contiguous().reshape(-1).data<double>().ToArray();
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
        _x.Dispose();
        _y.Dispose();
    }
}
