using Engine.Nn;

namespace Engine.Tests.Nn;

/// <summary>Layers free their own temporaries: outside any DisposeScope, a forward and backward
/// leave exactly the tensors the caller got back (which the caller then disposes).</summary>
public class LayerLifetimeTests
{
    static IEnumerable<TestCaseData> Layers()
    {
        yield return new TestCaseData((Func<Tensor[]>)(() => Run(new Conv2d(3, 4, 3, padding: "same", paddingMode: PaddingMode.Reflect, device: Device.CPU), [2, 3, 6, 6]))).SetName("Conv2d_reflect");
        yield return new TestCaseData((Func<Tensor[]>)(() => Run(new Conv1d(3, 4, 3, device: Device.CPU), [3, 8]))).SetName("Conv1d_unbatched");
        yield return new TestCaseData((Func<Tensor[]>)(() => Run(new ConvTranspose2d(3, 4, 3, stride: 2, device: Device.CPU), [2, 3, 4, 4]))).SetName("ConvTranspose2d");
        yield return new TestCaseData((Func<Tensor[]>)(() => Run(new MaxPool2d(2), [2, 3, 6, 6]))).SetName("MaxPool2d");
        yield return new TestCaseData((Func<Tensor[]>)(() => Run(new ReLU(inplace: false), [2, 3]))).SetName("ReLU");
        yield return new TestCaseData((Func<Tensor[]>)(() =>
        {
            using var lstm = new LSTM(4, 3, numLayers: 2, device: Device.CPU);
            using var x = Torch.Randn([5, 4], device: Device.CPU);
            var (o, (h, c)) = lstm.Call(x);
            return [o, h, c];
        })).SetName("LSTM_unbatched");
        yield return new TestCaseData((Func<Tensor[]>)(() =>
        {
            using var gru = new GRU(4, 3, batchFirst: true, device: Device.CPU);
            using var x = Torch.Randn([2, 5, 4], device: Device.CPU);
            var (o, h) = gru.Call(x);
            return [o, h];
        })).SetName("GRU");
        yield return new TestCaseData((Func<Tensor[]>)(() =>
        {
            using var emb = new Embedding(10, 3, maxNorm: 1.0, device: Device.CPU);
            using var i = Torch.FromSpan<long>(new long[] { 1, 2, 2 }, [3], Device.CPU);
            return [emb.Call(i)];
        })).SetName("Embedding_max_norm");
        yield return new TestCaseData((Func<Tensor[]>)(() =>
        {
            using var mha = new MultiheadAttention(4, 2, kdim: 3, vdim: 5, addBiasKV: true, addZeroAttn: true, batchFirst: true, device: Device.CPU);
            using var q = Torch.Randn([2, 3, 4], device: Device.CPU);
            using var k = Torch.Randn([2, 5, 3], device: Device.CPU);
            using var v = Torch.Randn([2, 5, 5], device: Device.CPU);
            using var mask = Torch.Zeros([2, 5], ScalarType.Bool, Device.CPU);
            var (o, w) = mha.Forward(q, k, v, keyPaddingMask: mask);
            return [o, w!];
        })).SetName("MultiheadAttention");
    }

    static Tensor[] Run(Module<Tensor, Tensor> layer, long[] shape)
    {
        using var _ = layer;
        using var x = Torch.Randn(shape, device: Device.CPU);
        return [layer.Call(x)];
    }

    [TestCaseSource(nameof(Layers))]
    public void Layer_forward_leaves_only_its_outputs_alive(Func<Tensor[]> run)
    {
        foreach (var t in run()) t.Dispose(); // warm-up: operator lookups, lazy statics
        long before = Tensor.LiveCount;
        var outputs = run();
        Assert.That(Tensor.LiveCount - before, Is.EqualTo(outputs.Length), "live tensors beyond the outputs");
        foreach (var t in outputs) t.Dispose();
        Assert.That(Tensor.LiveCount, Is.EqualTo(before));
    }
}
