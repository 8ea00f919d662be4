using System.Numerics;

namespace Engine.Optim.Kernels;

/// <summary>
/// Adagrad's whole update of one parameter in one sweep over p, g and the sum s, with libtorch's
/// roundings (add-with-alpha and addcmul fuse a·b + c; addcdiv is (s·t₁)/t₂ then a plain add):
/// g = g + λp;  s = s + g·g;  p = p + (−η̃)·g / (√s + ε).
/// </summary>
internal static unsafe class AdagradKernel
{
    internal struct Args
    {
        public nint P, G, Sum;
        public double StepSize, Eps, WeightDecay;    // StepSize: η̃ = η / (1 + (t − 1)·lr_decay)
        public bool Maximize;
    }

    static readonly Action<Args, long, long> s_float = (a, s, n) => Run<float>(a, s, n);
    static readonly Action<Args, long, long> s_double = (a, s, n) => Run<double>(a, s, n);

    internal static void Step(ScalarType dtype, in Args args, long n) => CpuKernel.Step(dtype, args, n, s_float, s_double);

    static void Run<T>(Args a, long start, long count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = (T*)a.P + start, g = (T*)a.G + start, s = (T*)a.Sum + start;
        T wd = T.CreateTruncating(a.WeightDecay), eps = T.CreateTruncating(a.Eps), step = T.CreateTruncating(-a.StepSize);
        bool decay = a.WeightDecay != 0;
        long i = 0;
        if (Vector.IsHardwareAccelerated && count >= Vector<T>.Count)
        {
            var vwd = new Vector<T>(wd); var veps = new Vector<T>(eps); var vstep = new Vector<T>(step);
            for (; i <= count - Vector<T>.Count; i += Vector<T>.Count)
            {
                var gi = Vector.Load(g + i);
                var pi = Vector.Load(p + i);
                if (a.Maximize) gi = -gi;
                if (decay) gi = AdamKernel.Fma(pi, vwd, gi);
                var si = AdamKernel.Fma(gi, gi, Vector.Load(s + i));
                si.Store(s + i);
                (pi + vstep * gi / (Vector.SquareRoot(si) + veps)).Store(p + i);
            }
        }
        for (; i < count; i++)
        {
            T gi = g[i], pi = p[i];
            if (a.Maximize) gi = -gi;
            if (decay) gi = T.FusedMultiplyAdd(pi, wd, gi);
            T si = T.FusedMultiplyAdd(gi, gi, s[i]);
            s[i] = si;
            p[i] = pi + step * gi / (T.Sqrt(si) + eps);
        }
    }
}
