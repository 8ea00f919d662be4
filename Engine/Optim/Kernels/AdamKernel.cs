using System.Numerics;

namespace Engine.Optim.Kernels;

/// <summary>
/// Adam/AdamW's whole update of one parameter in one sweep over p, g, m, v (and v̂max), in the
/// same operation order and roundings as libtorch's kernels (which fuse a·b + c in add-with-alpha
/// and addcmul on AVX2) so the results agree to the last bit or nearly:
/// m = β₁m + (1−β₁)g;  v = β₂v + (1−β₂)g²;  p = p + (−η/(1−β₁ᵗ))·m / (√v / √(1−β₂ᵗ) + ε).
/// </summary>
internal static unsafe class AdamKernel
{
    internal struct Args
    {
        public nint P, G, M, V, VMax;     // element pointers (VMax 0 unless AMSGrad)
        public double Beta1, Beta2, Eps, StepSize, BiasCorrection2Sqrt, WeightDecay, DecayFactor;
        public bool Maximize, Coupled, Amsgrad;
    }

    static readonly Action<Args, long, long> s_float = (a, s, n) => Run<float>(a, s, n);
    static readonly Action<Args, long, long> s_double = (a, s, n) => Run<double>(a, s, n);

    internal static void Step(ScalarType dtype, in Args args, long n) => CpuKernel.Step(dtype, args, n, s_float, s_double);

    /// <summary>a·b + c with one rounding, as libtorch's vectorized kernels compute add-with-alpha.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static Vector<T> Fma<T>(Vector<T> a, Vector<T> b, Vector<T> c) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector.FusedMultiplyAdd(a.As<T, float>(), b.As<T, float>(), c.As<T, float>()).As<float, T>();
        return Vector.FusedMultiplyAdd(a.As<T, double>(), b.As<T, double>(), c.As<T, double>()).As<double, T>();
    }

    static void Run<T>(Args a, long start, long count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = (T*)a.P + start, g = (T*)a.G + start, m = (T*)a.M + start, v = (T*)a.V + start;
        T* vmax = a.Amsgrad ? (T*)a.VMax + start : null;
        T b1 = T.CreateTruncating(a.Beta1), b2 = T.CreateTruncating(a.Beta2);
        T c1 = T.CreateTruncating(1 - a.Beta1), c2 = T.CreateTruncating(1 - a.Beta2);
        T eps = T.CreateTruncating(a.Eps), step = T.CreateTruncating(-a.StepSize);
        T bc2 = T.CreateTruncating(a.BiasCorrection2Sqrt), wd = T.CreateTruncating(a.WeightDecay);
        T decay = T.CreateTruncating(a.DecayFactor);
        long i = 0;
        if (Vector.IsHardwareAccelerated && count >= Vector<T>.Count)
        {
            var vb1 = new Vector<T>(b1); var vb2 = new Vector<T>(b2);
            var vc1 = new Vector<T>(c1); var vc2 = new Vector<T>(c2);
            var veps = new Vector<T>(eps); var vstep = new Vector<T>(step);
            var vbc2 = new Vector<T>(bc2); var vwd = new Vector<T>(wd); var vdecay = new Vector<T>(decay);
            for (; i <= count - Vector<T>.Count; i += Vector<T>.Count)
            {
                var gi = Vector.Load(g + i);
                var pi = Vector.Load(p + i);
                if (a.Maximize) gi = -gi;
                if (a.Coupled) gi = Fma(pi, vwd, gi);
                else pi *= vdecay;
                var mi = Fma(gi, vc1, Vector.Load(m + i) * vb1);
                var vi = Fma(vc2 * gi, gi, Vector.Load(v + i) * vb2);
                mi.Store(m + i);
                vi.Store(v + i);
                if (a.Amsgrad)
                {
                    vi = Vector.Max(Vector.Load(vmax + i), vi);
                    vi.Store(vmax + i);
                }
                var denom = Vector.SquareRoot(vi) / vbc2 + veps;
                (pi + vstep * mi / denom).Store(p + i);
            }
        }
        for (; i < count; i++)
        {
            T gi = g[i], pi = p[i];
            if (a.Maximize) gi = -gi;
            if (a.Coupled) gi = T.FusedMultiplyAdd(pi, wd, gi);
            else pi *= decay;
            T mi = T.FusedMultiplyAdd(gi, c1, m[i] * b1);
            T vi = T.FusedMultiplyAdd(c2 * gi, gi, v[i] * b2);
            m[i] = mi;
            v[i] = vi;
            if (a.Amsgrad)
            {
                vi = T.Max(vmax[i], vi);
                vmax[i] = vi;
            }
            T denom = T.Sqrt(vi) / bc2 + eps;
            p[i] = pi + step * mi / denom;
        }
    }
}
