using System.Numerics;

namespace Engine.Optim.Kernels;

/// <summary>
/// NAdam's whole update of one parameter in one sweep over p, g, m and v, with libtorch 2.10's
/// roundings (add-with-alpha and addcmul fuse a·b + c; addcdiv is s·(t₁/t₂) then a plain add —
/// libtorch 1.13 computed (s·t₁)/t₂; division by a scalar divides by the scalar in the tensor's dtype):
/// m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²;  d = √(v / (1−β₂ᵗ)) + ε;  p = p + c₁g/d;  p = p + c₂m/d.
/// </summary>
internal static unsafe class NAdamKernel
{
    internal struct Args
    {
        public nint P, G, ExpAvg, ExpAvgSq;
        public double Beta1, Beta2, Eps, BiasCorrection2, GradStep, MomentStep, WeightDecay, DecayFactor;
        public bool Maximize;
    }

    static readonly Action<Args, long, long> s_float = (a, s, n) => Run<float>(a, s, n);
    static readonly Action<Args, long, long> s_double = (a, s, n) => Run<double>(a, s, n);

    internal static void Step(ScalarType dtype, in Args args, long n) => CpuKernel.Step(dtype, args, n, s_float, s_double);

    static void Run<T>(Args a, long start, long count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = (T*)a.P + start, g = (T*)a.G + start, m = (T*)a.ExpAvg + start, v = (T*)a.ExpAvgSq + start;
        T wd = T.CreateTruncating(a.WeightDecay), b1 = T.CreateTruncating(a.Beta1), c1 = T.CreateTruncating(1 - a.Beta1);
        T b2 = T.CreateTruncating(a.Beta2), c2 = T.CreateTruncating(1 - a.Beta2), eps = T.CreateTruncating(a.Eps);
        T bc2 = T.CreateTruncating(a.BiasCorrection2), decay = T.CreateTruncating(a.DecayFactor);
        T gstep = T.CreateTruncating(a.GradStep), mstep = T.CreateTruncating(a.MomentStep);
        bool coupled = a.WeightDecay != 0, decoupled = a.DecayFactor != 1;
        long i = 0;
        if (Vector.IsHardwareAccelerated && count >= Vector<T>.Count)
        {
            var vwd = new Vector<T>(wd); var vb1 = new Vector<T>(b1); var vc1 = new Vector<T>(c1);
            var vb2 = new Vector<T>(b2); var vc2 = new Vector<T>(c2); var veps = new Vector<T>(eps);
            var vbc2 = new Vector<T>(bc2); var vdecay = new Vector<T>(decay);
            var vgstep = new Vector<T>(gstep); var vmstep = new Vector<T>(mstep);
            for (; i <= count - Vector<T>.Count; i += Vector<T>.Count)
            {
                var gi = Vector.Load(g + i);
                var pi = Vector.Load(p + i);
                if (a.Maximize) gi = -gi;
                if (decoupled) pi *= vdecay;
                if (coupled) gi = AdamKernel.Fma(pi, vwd, gi);
                var mi = AdamKernel.Fma(gi, vc1, Vector.Load(m + i) * vb1);
                var vi = AdamKernel.Fma(vc2 * gi, gi, Vector.Load(v + i) * vb2);
                mi.Store(m + i);
                vi.Store(v + i);
                var denom = Vector.SquareRoot(vi / vbc2) + veps;
                pi += vgstep * (gi / denom);
                (pi + vmstep * (mi / denom)).Store(p + i);
            }
        }
        for (; i < count; i++)
        {
            T gi = g[i], pi = p[i];
            if (a.Maximize) gi = -gi;
            if (decoupled) pi *= decay;
            if (coupled) gi = T.FusedMultiplyAdd(pi, wd, gi);
            T mi = T.FusedMultiplyAdd(gi, c1, m[i] * b1);
            T vi = T.FusedMultiplyAdd(c2 * gi, gi, v[i] * b2);
            m[i] = mi;
            v[i] = vi;
            T denom = T.Sqrt(vi / bc2) + eps;
            pi += gstep * (gi / denom);
            p[i] = pi + mstep * (mi / denom);
        }
    }
}
