using System.Numerics;

namespace Engine.Optim.Kernels;

/// <summary>
/// Lion's whole update of one parameter in one sweep over p, g and m, with the readable path's
/// roundings (libtorch's add-with-alpha is a fused multiply-add):
/// c = β₁m + (1−β₁)g;  p = p·(1−ηλ) − η·sign(c);  m = β₂m + (1−β₂)g.
/// </summary>
internal static unsafe class LionKernel
{
    internal struct Args
    {
        public nint P, G, M;
        public double Lr, Beta1, Beta2, DecayFactor;
        public bool Maximize, Decay;
    }

    static readonly Action<Args, long, long> s_float = (a, s, n) => Run<float>(a, s, n);
    static readonly Action<Args, long, long> s_double = (a, s, n) => Run<double>(a, s, n);

    internal static void Step(ScalarType dtype, in Args args, long n) => CpuKernel.Step(dtype, args, n, s_float, s_double);

    static void Run<T>(Args a, long start, long count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = (T*)a.P + start, g = (T*)a.G + start, m = (T*)a.M + start;
        T b1 = T.CreateTruncating(a.Beta1), b2 = T.CreateTruncating(a.Beta2);
        T c1 = T.CreateTruncating(1 - a.Beta1), c2 = T.CreateTruncating(1 - a.Beta2);
        T step = T.CreateTruncating(-a.Lr), decay = T.CreateTruncating(a.DecayFactor);
        long i = 0;
        if (Vector.IsHardwareAccelerated && count >= Vector<T>.Count)
        {
            var vb1 = new Vector<T>(b1); var vb2 = new Vector<T>(b2);
            var vc1 = new Vector<T>(c1); var vc2 = new Vector<T>(c2);
            var vstep = new Vector<T>(step); var vdecay = new Vector<T>(decay);
            var one = Vector<T>.One; var zero = Vector<T>.Zero;
            for (; i <= count - Vector<T>.Count; i += Vector<T>.Count)
            {
                var gi = Vector.Load(g + i);
                var pi = Vector.Load(p + i);
                var mi = Vector.Load(m + i);
                if (a.Maximize) gi = -gi;
                if (a.Decay) pi *= vdecay;
                var c = AdamKernel.Fma(gi, vc1, mi * vb1);
                // sign(c): +1, −1, or 0 (NaN stays NaN, as torch.sign)
                var sign = Vector.ConditionalSelect(Vector.GreaterThan(c, zero), one,
                    Vector.ConditionalSelect(Vector.LessThan(c, zero), -one, c * zero));
                AdamKernel.Fma(sign, vstep, pi).Store(p + i);
                AdamKernel.Fma(gi, vc2, mi * vb2).Store(m + i);
            }
        }
        for (; i < count; i++)
        {
            T gi = g[i], pi = p[i], mi = m[i];
            if (a.Maximize) gi = -gi;
            if (a.Decay) pi *= decay;
            T c = T.FusedMultiplyAdd(gi, c1, mi * b1);
            T sign = c > T.Zero ? T.One : c < T.Zero ? -T.One : c * T.Zero;
            p[i] = T.FusedMultiplyAdd(sign, step, pi);
            m[i] = T.FusedMultiplyAdd(gi, c2, mi * b2);
        }
    }
}
