using System.Text;
using Engine.Interop;

namespace Engine;

// Autograd on a tensor: requires-grad, .grad, backward.
public partial class Tensor
{
    public unsafe bool RequiresGrad
    {
        get
        {
            int* info = stackalloc int[7];
            Native.Check(KeepAlive(Native.eng_tensor_info(Handle, info)), "requires_grad");
            return info[4] != 0;
        }
        set => Native.Check(KeepAlive(Native.eng_tensor_set_requires_grad(Handle, value ? 1 : 0)), $"requires_grad_ on {Describe()}");
    }

    /// <summary>Sets requires-grad and returns this tensor (tensor.requires_grad_()).</summary>
    public Tensor RequiresGrad_(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }

    /// <summary>True for tensors made by the user rather than by a recorded op.</summary>
    public unsafe bool IsLeaf
    {
        get
        {
            int* info = stackalloc int[7];
            Native.Check(KeepAlive(Native.eng_tensor_info(Handle, info)), "is_leaf");
            return info[6] != 0;
        }
    }

    /// <summary>
    /// The accumulated gradient (tensor.grad), or null. Each get returns a new owner of the same
    /// native gradient (dispose it, or let the scope do it); setting null clears it.
    /// </summary>
    public Tensor? Grad
    {
        get
        {
            var h = KeepAlive(Native.eng_tensor_grad(Handle));
            if (h == 0)
            {
                var error = Native.LastError();
                if (error.Length > 0) throw new TorchException("grad", error);
                return null;
            }
            return new Tensor(h);
        }
        set
        {
            // Python's checks (same dtype, device and size) are made natively; say what was given.
            if (KeepAlive(Native.eng_tensor_set_grad(Handle, value?.Handle ?? 0)) < 0)
                throw new TorchException("set grad", Native.LastError(), $"{Describe()}, {value?.Describe() ?? "None"}");
            GC.KeepAlive(value);
        }
    }

    /// <summary>The autograd node that made this tensor ("AddBackward0"), or null for a leaf.</summary>
    public unsafe string? GradFn
    {
        get
        {
            byte* buf = stackalloc byte[256];
            int n = Native.Check(KeepAlive(Native.eng_tensor_grad_fn(Handle, buf, 256)), "grad_fn");
            return n == 0 ? null : Encoding.UTF8.GetString(buf, Math.Min(n, 255));
        }
    }

    /// <summary>
    /// Accumulates d(this)/d(leaf) into every leaf's <see cref="Grad"/>. A non-scalar output
    /// needs <paramref name="gradient"/> (the vector of the vector-Jacobian product).
    /// </summary>
    public void Backward(Tensor? gradient = null, bool retainGraph = false, bool createGraph = false) =>
        Autograd.Backward([this], gradient is null ? null : [gradient], retainGraph || createGraph, createGraph);

    /// <summary>Clears the gradient (set to none, as PyTorch's default zero_grad).</summary>
    public void ZeroGrad() => Grad = null;
}
