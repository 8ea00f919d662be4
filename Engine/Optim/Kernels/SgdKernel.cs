using System.Numerics;

namespace Engine.Optim.Kernels;

/// <summary>
/// SGD's whole update of one parameter in one sweep over p, g and the momentum buffer b, with
/// libtorch's roundings (add-with-alpha is a fused multiply-add):
/// g = g + λp;  b = g (first step) or ρb + (1−τ)g;  g = g + ρb (Nesterov) or b;  p = p − ηg.
/// </summary>
internal static unsafe class SgdKernel
{
    internal struct Args
    {
        public nint P, G, B;                 // B is 0 without momentum
        public double Lr, WeightDecay, Momentum, Dampening;
        public bool Maximize, Nesterov, FirstStep;
    }

    static readonly Action<Args, long, long> s_float = (a, s, n) => Run<float>(a, s, n);
    static readonly Action<Args, long, long> s_double = (a, s, n) => Run<double>(a, s, n);

    internal static void Step(ScalarType dtype, in Args args, long n) => CpuKernel.Step(dtype, args, n, s_float, s_double);

    static void Run<T>(Args a, long start, long count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = (T*)a.P + start, g = (T*)a.G + start;
        T* b = a.B != 0 ? (T*)a.B + start : null;
        T wd = T.CreateTruncating(a.WeightDecay), mom = T.CreateTruncating(a.Momentum);
        T keep = T.CreateTruncating(1 - a.Dampening), step = T.CreateTruncating(-a.Lr);
        bool decay = a.WeightDecay != 0;
        long i = 0;
        if (Vector.IsHardwareAccelerated && count >= Vector<T>.Count)
        {
            var vwd = new Vector<T>(wd); var vmom = new Vector<T>(mom);
            var vkeep = new Vector<T>(keep); var vstep = new Vector<T>(step);
            for (; i <= count - Vector<T>.Count; i += Vector<T>.Count)
            {
                var gi = Vector.Load(g + i);
                var pi = Vector.Load(p + i);
                if (a.Maximize) gi = -gi;
                if (decay) gi = AdamKernel.Fma(pi, vwd, gi);
                if (b != null)
                {
                    var bi = a.FirstStep ? gi : AdamKernel.Fma(gi, vkeep, Vector.Load(b + i) * vmom);
                    bi.Store(b + i);
                    gi = a.Nesterov ? AdamKernel.Fma(bi, vmom, gi) : bi;
                }
                AdamKernel.Fma(gi, vstep, pi).Store(p + i);
            }
        }
        for (; i < count; i++)
        {
            T gi = g[i], pi = p[i];
            if (a.Maximize) gi = -gi;
            if (decay) gi = T.FusedMultiplyAdd(pi, wd, gi);
            if (b != null)
            {
                T bi = a.FirstStep ? gi : T.FusedMultiplyAdd(gi, keep, b[i] * mom);
                b[i] = bi;
                gi = a.Nesterov ? T.FusedMultiplyAdd(bi, mom, gi) : bi;
            }
            p[i] = T.FusedMultiplyAdd(gi, step, pi);
        }
    }
}
