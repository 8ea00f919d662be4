using System.Runtime.InteropServices;

namespace Engine.Optim;

/// <summary>
/// A few of TorchSharp's own native exports (libLibTorchSharp, already loaded by TorchSharp),
/// called on raw handles so an optimizer's hot path reads a gradient's address without making a
/// managed Tensor wrapper (and its finalizer) per parameter per step. None of them can abort the
/// process: each catches libtorch's exceptions and returns null.
/// </summary>
internal static partial class NativeTensor
{
    const string Lib = "LibTorchSharp";

    [LibraryImport(Lib)] private static partial IntPtr THSTensor_grad(IntPtr tensor);
    [LibraryImport(Lib)] private static partial IntPtr THSTensor_data(IntPtr tensor);
    [LibraryImport(Lib)] private static partial void THSTensor_dispose(IntPtr tensor);
    [LibraryImport(Lib)] [return: MarshalAs(UnmanagedType.U1)] private static partial bool THSTensor_is_contiguous(IntPtr tensor);
    [LibraryImport(Lib)] private static partial long THSTensor_numel(IntPtr tensor);
    [LibraryImport(Lib)] private static partial sbyte THSTensor_type(IntPtr tensor);

    /// <summary>What a kernel can do with a parameter's gradient.</summary>
    internal enum Grad { None, Dense, NotDense }

    /// <summary>The address of p.grad's memory: <see cref="Grad.None"/> when p has no gradient
    /// (skip it, as PyTorch does), <see cref="Grad.NotDense"/> when the gradient is not a
    /// contiguous tensor of p's dtype and size (take the readable path).</summary>
    internal static Grad GradData(Tensor p, out nint data)
    {
        data = 0;
        IntPtr g = THSTensor_grad(p.Handle);
        if (g == IntPtr.Zero) { GC.KeepAlive(p); return Grad.None; }
        try
        {
            if (!THSTensor_is_contiguous(g) || THSTensor_numel(g) != p.numel() || THSTensor_type(g) != (sbyte)p.dtype)
                return Grad.NotDense;
            data = THSTensor_data(g);
            return data == 0 && p.numel() != 0 ? Grad.NotDense : Grad.Dense;
        }
        finally
        {
            THSTensor_dispose(g);
            GC.KeepAlive(p);
        }
    }

    /// <summary>The address of a tensor's first element (a CPU or CUDA address; no sync).</summary>
    internal static nint Data(Tensor t)
    {
        nint d = THSTensor_data(t.Handle);
        GC.KeepAlive(t);
        return d;
    }
}
