using Engine.Interop;
using Engine.Nn;

namespace Engine.Tests.Optim;

/// <summary>Two copies of the same small MLP on fixed data: one driven by an engine optimizer,
/// one by a reference; after each step their parameters are compared.</summary>
internal sealed class OptimizerHarness : IDisposable
{
    public readonly Sequential A, B;
    readonly Tensor _x, _y;

    public OptimizerHarness(ScalarType dtype, ulong seed = 7)
    {
        Torch.ManualSeed(seed);
        A = Make(dtype);
        B = Make(dtype);
        B.LoadStateDict(A.StateDict());
        _x = Torch.Randn([32, 6], dtype, Device.CPU).DetachFromDisposeScope();
        _y = Torch.Randint(0, 3, [32], device: Device.CPU).DetachFromDisposeScope();
    }

    static Sequential Make(ScalarType dtype)
    {
        var m = new Sequential(new Linear(6, 16, dtype: dtype, device: Device.CPU), new Tanh(), new Linear(16, 3, dtype: dtype, device: Device.CPU));
        return m;
    }

    /// <summary>Cross-entropy of the model on the fixed batch, with gradients computed.</summary>
    public Tensor LossAndBackward(Sequential model)
    {
        model.ZeroGrad();
        var logits = model.Call(_x);
        var loss = -logits.LogSoftmax(1).Gather(1, _y.Unsqueeze(1)).Mean();
        loss.Backward();
        return loss;
    }

    public Tensor[] ParamsA => A.Parameters().Cast<Tensor>().ToArray();
    public Tensor[] ParamsB => B.Parameters().Cast<Tensor>().ToArray();

    /// <summary>Largest |a-b| / (|b| + floor) over every parameter element.</summary>
    public double MaxRelativeDifference(double floor = 1e-3)
    {
        double worst = 0;
        foreach (var (pa, pb) in ParamsA.Zip(ParamsB))
        {
            var a = pa.To(ScalarType.Float64).ToArray<double>();
            var b = pb.To(ScalarType.Float64).ToArray<double>();
            for (int i = 0; i < a.Length; i++) worst = Math.Max(worst, Math.Abs(a[i] - b[i]) / (Math.Abs(b[i]) + floor));
        }
        return worst;
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
        _x.Dispose();
        _y.Dispose();
    }
}
