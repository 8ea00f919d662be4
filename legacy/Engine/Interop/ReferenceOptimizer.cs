using System.Runtime.InteropServices;

namespace Engine.Interop;

/// <summary>libtorch's own C++ optimizers (torch::optim), for parity tests only.</summary>
internal sealed unsafe partial class ReferenceOptimizer : IDisposable
{
    public enum Kind { Sgd = 0, Adam = 1, AdamW = 2, RmsProp = 3, Adagrad = 4, Lbfgs = 5 }

    [LibraryImport(Native.Lib)] private static partial nint eng_ref_optim_new(int kind, nint* ps, int n, double* h, int nh);
    [LibraryImport(Native.Lib)] private static partial int eng_ref_optim_step(nint opt, delegate* unmanaged<nint> closure);
    [LibraryImport(Native.Lib)] private static partial void eng_ref_optim_free(nint opt);

    nint _handle;
    readonly Tensor[] _params;

    /// <summary>Hyperparameters in the order shim_reference.cpp lists for the kind.</summary>
    public ReferenceOptimizer(Kind kind, Tensor[] parameters, params double[] hyper)
    {
        _params = parameters;
        var hs = stackalloc nint[parameters.Length];
        for (int i = 0; i < parameters.Length; i++) hs[i] = parameters[i].Handle;
        fixed (double* h = hyper)
            _handle = Native.Check(eng_ref_optim_new((int)kind, hs, parameters.Length, h, hyper.Length), $"torch::optim::{kind}");
    }

    public void Step() => Native.Check(eng_ref_optim_step(_handle, null), "torch::optim step");

    [ThreadStatic] static Func<Tensor>? t_closure;

    [UnmanagedCallersOnly]
    static nint RunClosure()
    {
        try
        {
            var loss = t_closure!();
            return Native.eng_tensor_retain(loss.Handle);
        }
        catch
        {
            return 0;
        }
    }

    /// <summary>A step with a closure that zeroes grads, computes the loss and calls Backward.</summary>
    public void Step(Func<Tensor> closure)
    {
        t_closure = closure;
        try { Native.Check(eng_ref_optim_step(_handle, &RunClosure), "torch::optim step(closure)"); }
        finally { t_closure = null; }
    }

    public void Dispose()
    {
        if (_handle != 0) eng_ref_optim_free(_handle);
        _handle = 0;
        GC.KeepAlive(_params);
    }
}
