using System.Numerics;

namespace Engine.Optim.Kernels;

/// <summary>
/// Adadelta's whole update of one parameter in one sweep over p, g, v and u, with libtorch's
/// roundings (add-with-alpha and addcmul fuse a·b + c):
/// g = g + λp;  v = ρv + (1−ρ)g²;  Δ = √(u + ε) / √(v + ε) · g;  u = ρu + (1−ρ)Δ²;  p = p − ηΔ.
/// </summary>
internal static unsafe class AdadeltaKernel
{
    internal struct Args
    {
        public nint P, G, SquareAvg, AccDelta;
        public double Lr, Rho, Eps, WeightDecay;
        public bool Maximize;
    }

    static readonly Action<Args, long, long> s_float = (a, s, n) => Run<float>(a, s, n);
    static readonly Action<Args, long, long> s_double = (a, s, n) => Run<double>(a, s, n);

    internal static void Step(ScalarType dtype, in Args args, long n) => CpuKernel.Step(dtype, args, n, s_float, s_double);

    static void Run<T>(Args a, long start, long count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = (T*)a.P + start, g = (T*)a.G + start, v = (T*)a.SquareAvg + start, u = (T*)a.AccDelta + start;
        T wd = T.CreateTruncating(a.WeightDecay), rho = T.CreateTruncating(a.Rho), keep = T.CreateTruncating(1 - a.Rho);
        T eps = T.CreateTruncating(a.Eps), step = T.CreateTruncating(-a.Lr);
        bool decay = a.WeightDecay != 0;
        long i = 0;
        if (Vector.IsHardwareAccelerated && count >= Vector<T>.Count)
        {
            var vwd = new Vector<T>(wd); var vrho = new Vector<T>(rho); var vkeep = new Vector<T>(keep);
            var veps = new Vector<T>(eps); var vstep = new Vector<T>(step);
            for (; i <= count - Vector<T>.Count; i += Vector<T>.Count)
            {
                var gi = Vector.Load(g + i);
                var pi = Vector.Load(p + i);
                if (a.Maximize) gi = -gi;
                if (decay) gi = AdamKernel.Fma(pi, vwd, gi);
                var vi = AdamKernel.Fma(vkeep * gi, gi, Vector.Load(v + i) * vrho);
                vi.Store(v + i);
                var ui = Vector.Load(u + i);
                var delta = Vector.SquareRoot(ui + veps) / Vector.SquareRoot(vi + veps) * gi;
                AdamKernel.Fma(vkeep * delta, delta, ui * vrho).Store(u + i);
                AdamKernel.Fma(delta, vstep, pi).Store(p + i);
            }
        }
        for (; i < count; i++)
        {
            T gi = g[i], pi = p[i];
            if (a.Maximize) gi = -gi;
            if (decay) gi = T.FusedMultiplyAdd(pi, wd, gi);
            T vi = T.FusedMultiplyAdd(keep * gi, gi, v[i] * rho);
            v[i] = vi;
            T ui = u[i];
            T delta = T.Sqrt(ui + eps) / T.Sqrt(vi + eps) * gi;
            u[i] = T.FusedMultiplyAdd(keep * delta, delta, ui * rho);
            p[i] = T.FusedMultiplyAdd(delta, step, pi);
        }
    }
}
