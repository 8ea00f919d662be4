using System.Numerics;

namespace Engine.Optim.Kernels;

/// <summary>
/// RAdam's whole update of one parameter in one sweep over p, g, m and v, in PyTorch's operation
/// order and libtorch's roundings (add-with-alpha and addcmul fuse a·b + c; a scalar divided by a
/// tensor is the tensor's reciprocal times the scalar):
/// m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²;  m̂ = m / (1−β₁ᵗ);
/// p = p − ((m̂·η)·(1/(√v + ε)·√(1−β₂ᵗ)))·r  when rectified, else p = p − m̂·η.
/// </summary>
internal static unsafe class RAdamKernel
{
    internal struct Args
    {
        public nint P, G, ExpAvg, ExpAvgSq;
        public double Beta1, Beta2, Eps, Lr, BiasCorrection1, BiasCorrection2Sqrt, Rectification, WeightDecay, DecayFactor;
        public bool Rectified, Maximize;
    }

    static readonly Action<Args, long, long> s_float = (a, s, n) => Run<float>(a, s, n);
    static readonly Action<Args, long, long> s_double = (a, s, n) => Run<double>(a, s, n);

    internal static void Step(ScalarType dtype, in Args args, long n) => CpuKernel.Step(dtype, args, n, s_float, s_double);

    static void Run<T>(Args a, long start, long count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = (T*)a.P + start, g = (T*)a.G + start, m = (T*)a.ExpAvg + start, v = (T*)a.ExpAvgSq + start;
        T wd = T.CreateTruncating(a.WeightDecay), b1 = T.CreateTruncating(a.Beta1), c1 = T.CreateTruncating(1 - a.Beta1);
        T b2 = T.CreateTruncating(a.Beta2), c2 = T.CreateTruncating(1 - a.Beta2), eps = T.CreateTruncating(a.Eps);
        T bc1 = T.CreateTruncating(a.BiasCorrection1), bc2 = T.CreateTruncating(a.BiasCorrection2Sqrt);
        T lr = T.CreateTruncating(a.Lr), rect = T.CreateTruncating(a.Rectification), decay = T.CreateTruncating(a.DecayFactor);
        bool coupled = a.WeightDecay != 0, decoupled = a.DecayFactor != 1, rectified = a.Rectified;
        long i = 0;
        if (Vector.IsHardwareAccelerated && count >= Vector<T>.Count)
        {
            var vwd = new Vector<T>(wd); var vb1 = new Vector<T>(b1); var vc1 = new Vector<T>(c1);
            var vb2 = new Vector<T>(b2); var vc2 = new Vector<T>(c2); var veps = new Vector<T>(eps);
            var vbc1 = new Vector<T>(bc1); var vbc2 = new Vector<T>(bc2); var vlr = new Vector<T>(lr);
            var vrect = new Vector<T>(rect); var vdecay = new Vector<T>(decay);
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
                var step = mi / vbc1 * vlr;
                if (rectified) step = step * (Vector<T>.One / (Vector.SquareRoot(vi) + veps) * vbc2) * vrect;
                (pi - step).Store(p + i);
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
            T step = mi / bc1 * lr;
            if (rectified) step = step * (T.One / (T.Sqrt(vi) + eps) * bc2) * rect;
            p[i] = pi - step;
        }
    }
}
