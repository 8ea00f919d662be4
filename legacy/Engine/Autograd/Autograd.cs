using Engine.Interop;

namespace Engine;

/// <summary>torch.autograd: backward over several outputs and grad() for higher-order derivatives.</summary>
public static class Autograd
{
    /// <summary>Accumulates the gradients of <paramref name="outputs"/> into the leaves' .Grad.</summary>
    public static unsafe void Backward(Tensor[] outputs, Tensor?[]? gradients = null, bool retainGraph = false, bool createGraph = false)
    {
        if (gradients is not null && gradients.Length != outputs.Length)
            throw new ArgumentException($"backward: {outputs.Length} outputs but {gradients.Length} gradients");
        var outs = stackalloc nint[outputs.Length];
        var grads = stackalloc nint[outputs.Length];
        for (int k = 0; k < outputs.Length; k++)
        {
            outs[k] = outputs[k].Handle;
            grads[k] = gradients?[k]?.Handle ?? 0;
        }
        int rc = Native.eng_backward(outs, gradients is null ? null : grads, outputs.Length, retainGraph ? 1 : 0, createGraph ? 1 : 0);
        GC.KeepAlive(outputs);
        GC.KeepAlive(gradients);
        if (rc < 0) throw new TorchException("backward", Native.LastError(), string.Join(", ", outputs.Select(o => o.Describe())));
    }

    /// <summary>
    /// d(outputs)/d(inputs) weighted by <paramref name="gradOutputs"/> (torch.autograd.grad).
    /// With <paramref name="createGraph"/> the results are differentiable again (higher-order
    /// gradients). An input the outputs do not depend on gives null if <paramref name="allowUnused"/>.
    /// </summary>
    public static unsafe Tensor?[] Grad(Tensor[] outputs, Tensor[] inputs, Tensor?[]? gradOutputs = null,
        bool? retainGraph = null, bool createGraph = false, bool allowUnused = false)
    {
        if (gradOutputs is not null && gradOutputs.Length != outputs.Length)
            throw new ArgumentException($"grad: {outputs.Length} outputs but {gradOutputs.Length} grad_outputs");
        var outs = stackalloc nint[outputs.Length];
        var grads = stackalloc nint[outputs.Length];
        var ins = stackalloc nint[inputs.Length];
        var results = stackalloc nint[inputs.Length];
        for (int k = 0; k < outputs.Length; k++)
        {
            outs[k] = outputs[k].Handle;
            grads[k] = gradOutputs?[k]?.Handle ?? 0;
        }
        for (int k = 0; k < inputs.Length; k++) ins[k] = inputs[k].Handle;
        int retain = retainGraph is null ? -1 : retainGraph.Value ? 1 : 0;
        int rc = Native.eng_grad(outs, gradOutputs is null ? null : grads, outputs.Length, ins, inputs.Length,
            retain, createGraph ? 1 : 0, allowUnused ? 1 : 0, results);
        GC.KeepAlive(outputs);
        GC.KeepAlive(inputs);
        GC.KeepAlive(gradOutputs);
        if (rc < 0) throw new TorchException("autograd.grad", Native.LastError(), string.Join(", ", outputs.Select(o => o.Describe())));
        var r = new Tensor?[inputs.Length];
        for (int k = 0; k < inputs.Length; k++) r[k] = results[k] == 0 ? null : new Tensor(results[k]);
        return r;
    }

    /// <summary>Gradient of a scalar output with respect to one input.</summary>
    public static Tensor Grad(Tensor output, Tensor input, bool createGraph = false) =>
        Grad([output], [input], null, null, createGraph)[0]!;
}
