using System.Numerics;

namespace Engine.Optim.Kernels;

/// <summary>
/// RMSprop's whole update of one parameter in one sweep over p, g, v (and ḡ, b), with libtorch's
/// roundings (add-with-alpha and addcmul fuse a·b + c; addcdiv is (s·t₁)/t₂ then a plain add):
/// g = g + λp;  v = αv + (1−α)g²;  ḡ = αḡ + (1−α)g;  d = √(v − ḡ²) + ε  (or √v + ε);
/// b = μb + g/d, p = p − ηb  (or p = p + (−η)g/d).
/// </summary>
internal static unsafe class RmsPropKernel
{
    internal struct Args
    {
        public nint P, G, SquareAvg, GradAvg, Buffer;   // GradAvg 0 unless centered, Buffer 0 without momentum
        public double Lr, Alpha, Eps, WeightDecay, Momentum;
        public bool Maximize;
    }

    static readonly Action<Args, long, long> s_float = (a, s, n) => Run<float>(a, s, n);
    static readonly Action<Args, long, long> s_double = (a, s, n) => Run<double>(a, s, n);

    internal static void Step(ScalarType dtype, in Args args, long n) => CpuKernel.Step(dtype, args, n, s_float, s_double);

    static void Run<T>(Args a, long start, long count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = (T*)a.P + start, g = (T*)a.G + start, v = (T*)a.SquareAvg + start;
        T* gAvg = a.GradAvg != 0 ? (T*)a.GradAvg + start : null;
        T* b = a.Buffer != 0 ? (T*)a.Buffer + start : null;
        T wd = T.CreateTruncating(a.WeightDecay), alpha = T.CreateTruncating(a.Alpha);
        T keep = T.CreateTruncating(1 - a.Alpha), eps = T.CreateTruncating(a.Eps);
        T mom = T.CreateTruncating(a.Momentum), step = T.CreateTruncating(-a.Lr);
        bool decay = a.WeightDecay != 0;
        long i = 0;
        if (Vector.IsHardwareAccelerated && count >= Vector<T>.Count)
        {
            var vwd = new Vector<T>(wd); var valpha = new Vector<T>(alpha); var vkeep = new Vector<T>(keep);
            var veps = new Vector<T>(eps); var vmom = new Vector<T>(mom); var vstep = new Vector<T>(step);
            for (; i <= count - Vector<T>.Count; i += Vector<T>.Count)
            {
                var gi = Vector.Load(g + i);
                var pi = Vector.Load(p + i);
                if (a.Maximize) gi = -gi;
                if (decay) gi = AdamKernel.Fma(pi, vwd, gi);
                var vi = AdamKernel.Fma(vkeep * gi, gi, Vector.Load(v + i) * valpha);
                vi.Store(v + i);
                Vector<T> avg;
                if (gAvg != null)
                {
                    var ai = AdamKernel.Fma(gi, vkeep, Vector.Load(gAvg + i) * valpha);
                    ai.Store(gAvg + i);
                    avg = Vector.SquareRoot(AdamKernel.Fma(-ai, ai, vi));
                }
                else avg = Vector.SquareRoot(vi);
                avg += veps;
                if (b != null)
                {
                    var bi = Vector.Load(b + i) * vmom + gi / avg;
                    bi.Store(b + i);
                    AdamKernel.Fma(bi, vstep, pi).Store(p + i);
                }
                else (pi + vstep * gi / avg).Store(p + i);
            }
        }
        for (; i < count; i++)
        {
            T gi = g[i], pi = p[i];
            if (a.Maximize) gi = -gi;
            if (decay) gi = T.FusedMultiplyAdd(pi, wd, gi);
            T vi = T.FusedMultiplyAdd(keep * gi, gi, v[i] * alpha);
            v[i] = vi;
            T avg;
            if (gAvg != null)
            {
                T ai = T.FusedMultiplyAdd(gi, keep, gAvg[i] * alpha);
                gAvg[i] = ai;
                avg = T.Sqrt(T.FusedMultiplyAdd(-ai, ai, vi));
            }
            else avg = T.Sqrt(vi);
            avg += eps;
            if (b != null)
            {
                T bi = b[i] * mom + gi / avg;
                b[i] = bi;
                p[i] = T.FusedMultiplyAdd(bi, step, pi);
            }
            else p[i] = pi + step * gi / avg;
        }
    }
}
