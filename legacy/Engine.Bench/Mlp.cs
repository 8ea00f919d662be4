namespace Engine.Bench;

/// <summary>
/// A ReLU MLP trained by plain SGD on one fixed batch, written exactly as scripts/bench_python.py
/// writes it: Linear layers (weight [out, in]), cross-entropy as -mean(gather(log_softmax)),
/// backward, then p -= lr * p.grad and p.grad = None under no-grad. Every step runs in a
/// DisposeScope, as a user's training loop should.
/// </summary>
sealed class Mlp : IDisposable
{
    readonly Tensor[] _weights, _biases, _parameters;
    readonly Tensor _x, _y;
    readonly double _lr;

    /// <summary>Seeded like the Python side (weights then biases per layer, then x, then y),
    /// so both start from the same numbers and their losses can be compared.</summary>
    public Mlp(int[] sizes, int batch, double lr = 0.1, ulong seed = 0)
    {
        Torch.ManualSeed(seed);
        int layers = sizes.Length - 1;
        _weights = new Tensor[layers];
        _biases = new Tensor[layers];
        for (int l = 0; l < layers; l++)
        {
            using var r = Torch.Randn([sizes[l + 1], sizes[l]]);
            _weights[l] = r.Mul(1.0 / Math.Sqrt(sizes[l])).RequiresGrad_();
            _biases[l] = Torch.Zeros([sizes[l + 1]], requiresGrad: true);
        }
        _parameters = [.. _weights, .. _biases];
        _x = Torch.Randn([batch, sizes[0]]);
        _y = Torch.Randint(0, sizes[^1], [batch]);
        _lr = lr;
    }

    /// <summary>One training step; returns the loss when asked (reading it costs a call).</summary>
    public double Step(bool readLoss = false)
    {
        using var scope = DisposeScope.Begin();
        var h = _x;
        for (int l = 0; l < _weights.Length; l++)
        {
            h = Functional.Linear(h, _weights[l], _biases[l]);
            if (l < _weights.Length - 1) h = h.Relu();
        }
        var loss = -h.LogSoftmax(1).Gather(1, _y.Unsqueeze(1)).Mean();
        loss.Backward();
        using (Torch.NoGrad())
        {
            foreach (var p in _parameters)
            {
                p.Sub_(p.Grad!, alpha: _lr);
                p.ZeroGrad();
            }
        }
        return readLoss ? loss.Item<double>() : double.NaN;
    }

    public void Dispose()
    {
        foreach (var p in _parameters) p.Dispose();
        _x.Dispose();
        _y.Dispose();
    }
}
