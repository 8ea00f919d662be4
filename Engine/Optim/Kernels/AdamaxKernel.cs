using System.Numerics;

namespace Engine.Optim.Kernels;

/// <summary>
/// Adamax's whole update of one parameter in one sweep over p, g, m and u, with libtorch's
/// roundings (add-with-alpha fuses a·b + c; addcdiv is (s·t₁)/t₂ then a plain add):
/// g = g + λp;  m = β₁m + (1−β₁)g;  u = max(β₂u, |g| + ε);  p = p + (−η/(1−β₁ᵗ))·m / u.
/// </summary>
internal static unsafe class AdamaxKernel
{
    internal struct Args
    {
        public nint P, G, ExpAvg, ExpInf;
        public double Beta1, Beta2, Eps, StepSize, WeightDecay;   // StepSize: η / (1 − β₁ᵗ)
        public bool Maximize;
    }

    static readonly Action<Args, long, long> s_float = (a, s, n) => Run<float>(a, s, n);
    static readonly Action<Args, long, long> s_double = (a, s, n) => Run<double>(a, s, n);

    internal static void Step(ScalarType dtype, in Args args, long n) => CpuKernel.Step(dtype, args, n, s_float, s_double);

    static void Run<T>(Args a, long start, long count) where T : unmanaged, IFloatingPointIeee754<T>
    {
        T* p = (T*)a.P + start, g = (T*)a.G + start, m = (T*)a.ExpAvg + start, u = (T*)a.ExpInf + start;
        T wd = T.CreateTruncating(a.WeightDecay), b1 = T.CreateTruncating(a.Beta1), c1 = T.CreateTruncating(1 - a.Beta1);
        T b2 = T.CreateTruncating(a.Beta2), eps = T.CreateTruncating(a.Eps), step = T.CreateTruncating(-a.StepSize);
        bool decay = a.WeightDecay != 0;
        long i = 0;
        if (Vector.IsHardwareAccelerated && count >= Vector<T>.Count)
        {
            var vwd = new Vector<T>(wd); var vb1 = new Vector<T>(b1); var vc1 = new Vector<T>(c1);
            var vb2 = new Vector<T>(b2); var veps = new Vector<T>(eps); var vstep = new Vector<T>(step);
            for (; i <= count - Vector<T>.Count; i += Vector<T>.Count)
            {
                var gi = Vector.Load(g + i);
                var pi = Vector.Load(p + i);
                if (a.Maximize) gi = -gi;
                if (decay) gi = AdamKernel.Fma(pi, vwd, gi);
                var mi = AdamKernel.Fma(gi, vc1, Vector.Load(m + i) * vb1);
                mi.Store(m + i);
                var ui = Vector.Max(Vector.Load(u + i) * vb2, Vector.Abs(gi) + veps);
                ui.Store(u + i);
                (pi + vstep * mi / ui).Store(p + i);
            }
        }
        for (; i < count; i++)
        {
            T gi = g[i], pi = p[i];
            if (a.Maximize) gi = -gi;
            if (decay) gi = T.FusedMultiplyAdd(pi, wd, gi);
            T mi = T.FusedMultiplyAdd(gi, c1, m[i] * b1);
            m[i] = mi;
            T ui = T.Max(u[i] * b2, T.Abs(gi) + eps);
            u[i] = ui;
            p[i] = pi + step * mi / ui;
        }
    }
}
