using System.Runtime.InteropServices;
using Engine.Interop;

namespace Engine;

/// <summary>
/// Typed native calls for elementwise add, sub, mul and div (shim_hot.cpp): the most frequent
/// small ops skip the generic call's argument conversion. Same results and errors as the
/// generic path (aten::add.Tensor etc.).
/// </summary>
internal static partial class HotOps
{
    internal const int Add = 0, Sub = 1, Mul = 2, Div = 3;

    static readonly string[] s_names = ["aten::add", "aten::sub", "aten::mul", "aten::div"];

    [LibraryImport(Native.Lib)] private static partial nint eng_hot_binary(int op, nint a, nint b, int alphaIsInt, long ialpha, double dalpha);
    [LibraryImport(Native.Lib)] private static partial int eng_hot_binary_(int op, nint a, nint b, int alphaIsInt, long ialpha, double dalpha);
    [LibraryImport(Native.Lib)] private static partial nint eng_hot_scalar(int op, nint a, int isInt, long i, double d);
    [LibraryImport(Native.Lib)] private static partial int eng_hot_scalar_(int op, nint a, int isInt, long i, double d);

    // A whole alpha goes as an integer Scalar: libtorch rejects a floating alpha for integer
    // tensors (int + int would throw), and converts an integer one exactly for floating tensors.
    static bool Whole(double v) => v == Math.Round(v) && Math.Abs(v) < 9e15;

    internal static Tensor Binary(int op, Tensor a, Tensor b, double alpha = 1)
    {
        bool whole = Whole(alpha);
        var h = eng_hot_binary(op, a.Handle, b.Handle, whole ? 1 : 0, whole ? (long)alpha : 0, alpha);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        if (h == 0) throw Error(op, ".Tensor", a.Describe(), b.Describe());
        return new Tensor(h);
    }

    internal static void Binary_(int op, Tensor a, Tensor b, double alpha = 1)
    {
        bool whole = Whole(alpha);
        int rc = eng_hot_binary_(op, a.Handle, b.Handle, whole ? 1 : 0, whole ? (long)alpha : 0, alpha);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        if (rc < 0) throw Error(op, "_.Tensor", a.Describe(), b.Describe());
    }

    internal static Tensor Scalar(int op, Tensor a, double s)
    {
        var h = eng_hot_scalar(op, a.Handle, 0, 0, s);
        GC.KeepAlive(a);
        if (h == 0) throw Error(op, ".Scalar", a.Describe(), s.ToString("R"));
        return new Tensor(h);
    }

    internal static Tensor Scalar(int op, Tensor a, long s)
    {
        var h = eng_hot_scalar(op, a.Handle, 1, s, s);
        GC.KeepAlive(a);
        if (h == 0) throw Error(op, ".Scalar", a.Describe(), s.ToString());
        return new Tensor(h);
    }

    internal static void Scalar_(int op, Tensor a, double s)
    {
        int rc = eng_hot_scalar_(op, a.Handle, 0, 0, s);
        GC.KeepAlive(a);
        if (rc < 0) throw Error(op, "_.Scalar", a.Describe(), s.ToString("R"));
    }

    static TorchException Error(int op, string overload, string a, string b)
    {
        var name = s_names[op];
        var dot = overload.IndexOf('.');
        var full = name + overload[..dot] + overload[dot..];
        return new TorchException(full, Native.LastError(), $"{a}, {b}");
    }
}
