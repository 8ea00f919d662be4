namespace Engine;

// Binary elementwise math, comparisons and the C# operators over them (add, sub, mul and div go
// through the typed HotOps calls). Scalars keep their kind:
// an int64 tensor plus a long stays int64, plus a double becomes float (as in PyTorch).
// `==` and `!=` keep C#'s reference meaning (so `t == null` works); use Eq/Ne for elementwise.
public partial class Tensor
{
    static readonly Op s_rsubS = new("aten::rsub", "Scalar");
    static readonly Op s_remT = new("aten::remainder", "Tensor"), s_remS = new("aten::remainder", "Scalar");
    static readonly Op s_powTT = new("aten::pow", "Tensor_Tensor"), s_powTS = new("aten::pow", "Tensor_Scalar");
    static readonly Op s_powST = new("aten::pow", "Scalar");
    static readonly Op s_powS_ = new("aten::pow_", "Scalar");
    static readonly Op s_eqT = new("aten::eq", "Tensor"), s_eqS = new("aten::eq", "Scalar");
    static readonly Op s_neT = new("aten::ne", "Tensor"), s_neS = new("aten::ne", "Scalar");
    static readonly Op s_ltT = new("aten::lt", "Tensor"), s_ltS = new("aten::lt", "Scalar");
    static readonly Op s_leT = new("aten::le", "Tensor"), s_leS = new("aten::le", "Scalar");
    static readonly Op s_gtT = new("aten::gt", "Tensor"), s_gtS = new("aten::gt", "Scalar");
    static readonly Op s_geT = new("aten::ge", "Tensor"), s_geS = new("aten::ge", "Scalar");
    static readonly Op s_and = new("aten::bitwise_and", "Tensor"), s_or = new("aten::bitwise_or", "Tensor");
    static readonly Op s_xor = new("aten::bitwise_xor", "Tensor");
    static readonly Op s_maximum = new("aten::maximum"), s_minimum = new("aten::minimum");
    static readonly Op s_clamp = new("aten::clamp"), s_clamp_ = new("aten::clamp_");
    static readonly Op s_clampT = new("aten::clamp", "Tensor");
    static readonly Op s_where = new("aten::where", "self");
    static readonly Op s_lerpS_ = new("aten::lerp_", "Scalar");
    static readonly Op s_addcmul_ = new("aten::addcmul_"), s_addcdiv_ = new("aten::addcdiv_");
    static readonly Op s_addcmul = new("aten::addcmul"), s_addcdiv = new("aten::addcdiv");
    static readonly Op s_fill_ = new("aten::fill_", "Scalar"), s_copy_ = new("aten::copy_");
    static readonly Op s_allclose = new("aten::allclose"), s_equal = new("aten::equal");
    static readonly Op s_isclose = new("aten::isclose");
    static readonly Op s_uniform_ = new("aten::uniform_"), s_normal_ = new("aten::normal_");
    static readonly Op s_bernoulli_ = new("aten::bernoulli_", "float");
    static readonly Op s_xlogy = new("aten::xlogy", "Tensor");


    public Tensor Add(Tensor other, double alpha = 1) => HotOps.Binary(HotOps.Add, this, other, alpha);
    public Tensor Add(double other) => HotOps.Scalar(HotOps.Add, this, other);
    public Tensor Add(long other) => HotOps.Scalar(HotOps.Add, this, other);
    public Tensor Sub(Tensor other, double alpha = 1) => HotOps.Binary(HotOps.Sub, this, other, alpha);
    public Tensor Sub(double other) => HotOps.Scalar(HotOps.Sub, this, other);
    public Tensor Sub(long other) => HotOps.Scalar(HotOps.Sub, this, other);
    public Tensor Mul(Tensor other) => HotOps.Binary(HotOps.Mul, this, other);
    public Tensor Mul(double other) => HotOps.Scalar(HotOps.Mul, this, other);
    public Tensor Mul(long other) => HotOps.Scalar(HotOps.Mul, this, other);
    /// <summary>True division (integers give floats), as torch.div.</summary>
    public Tensor Div(Tensor other) => HotOps.Binary(HotOps.Div, this, other);
    public Tensor Div(double other) => HotOps.Scalar(HotOps.Div, this, other);
    public Tensor Remainder(Tensor other) => s_remT.Call(this, other);
    public Tensor Remainder(double other) => s_remS.Call(this, other);
    public Tensor Remainder(long other) => s_remS.Call(this, other);
    public Tensor Pow(Tensor exponent) => s_powTT.Call(this, exponent);
    public Tensor Pow(double exponent) => s_powTS.Call(this, exponent);
    public Tensor Pow(long exponent) => s_powTS.Call(this, exponent);
    public static Tensor Pow(double self, Tensor exponent) => s_powST.Call(self, exponent);
    /// <summary>this · log(other), and 0 where this is 0 even if other is 0 (torch.xlogy): entropy terms.</summary>
    public Tensor Xlogy(Tensor other) => s_xlogy.Call(this, other);

    public Tensor Add_(Tensor other, double alpha = 1) { HotOps.Binary_(HotOps.Add, this, other, alpha); return this; }
    public Tensor Add_(double other) { HotOps.Scalar_(HotOps.Add, this, other); return this; }
    public Tensor Sub_(Tensor other, double alpha = 1) { HotOps.Binary_(HotOps.Sub, this, other, alpha); return this; }
    public Tensor Sub_(double other) { HotOps.Scalar_(HotOps.Sub, this, other); return this; }
    public Tensor Mul_(Tensor other) { HotOps.Binary_(HotOps.Mul, this, other); return this; }
    public Tensor Mul_(double other) { HotOps.Scalar_(HotOps.Mul, this, other); return this; }
    public Tensor Div_(Tensor other) { HotOps.Binary_(HotOps.Div, this, other); return this; }
    public Tensor Div_(double other) { HotOps.Scalar_(HotOps.Div, this, other); return this; }
    public Tensor Pow_(double exponent) { s_powS_.CallInPlace(this, exponent); return this; }
    /// <summary>self += weight * (end - self).</summary>
    public Tensor Lerp_(Tensor end, double weight) { s_lerpS_.CallInPlace(this, end, weight); return this; }
    /// <summary>self += value * t1 * t2.</summary>
    public Tensor Addcmul_(Tensor t1, Tensor t2, double value = 1) { s_addcmul_.CallInPlace(this, t1, t2, value); return this; }
    /// <summary>self += value * t1 / t2.</summary>
    public Tensor Addcdiv_(Tensor t1, Tensor t2, double value = 1) { s_addcdiv_.CallInPlace(this, t1, t2, value); return this; }
    public Tensor Addcmul(Tensor t1, Tensor t2, double value = 1) => s_addcmul.Call(this, t1, t2, value);
    public Tensor Addcdiv(Tensor t1, Tensor t2, double value = 1) => s_addcdiv.Call(this, t1, t2, value);
    /// <summary>Fills with samples from U(low, high), in place (tensor.uniform_).</summary>
    public Tensor Uniform_(double low = 0, double high = 1, Generator? generator = null) { s_uniform_.CallInPlace(this, low, high, generator); return this; }
    /// <summary>Fills with samples from N(mean, std²), in place (tensor.normal_).</summary>
    public Tensor Normal_(double mean = 0, double std = 1, Generator? generator = null) { s_normal_.CallInPlace(this, mean, std, generator); return this; }
    /// <summary>Fills with 1 with probability p, else 0, in place (tensor.bernoulli_(p)).</summary>
    public Tensor Bernoulli_(double p, Generator? generator = null) { s_bernoulli_.CallInPlace(this, p, generator); return this; }
    public Tensor Fill_(double value) { s_fill_.CallInPlace(this, value); return this; }
    public Tensor Fill_(long value) { s_fill_.CallInPlace(this, value); return this; }
    /// <summary>Copies src into this tensor (broadcasting, converting dtype and device).</summary>
    public Tensor Copy_(Tensor src) { s_copy_.CallInPlace(this, src); return this; }

    public Tensor Eq(Tensor other) => s_eqT.Call(this, other);
    public Tensor Eq(double other) => s_eqS.Call(this, other);
    public Tensor Ne(Tensor other) => s_neT.Call(this, other);
    public Tensor Ne(double other) => s_neS.Call(this, other);
    public Tensor Lt(Tensor other) => s_ltT.Call(this, other);
    public Tensor Lt(double other) => s_ltS.Call(this, other);
    public Tensor Le(Tensor other) => s_leT.Call(this, other);
    public Tensor Le(double other) => s_leS.Call(this, other);
    public Tensor Gt(Tensor other) => s_gtT.Call(this, other);
    public Tensor Gt(double other) => s_gtS.Call(this, other);
    public Tensor Ge(Tensor other) => s_geT.Call(this, other);
    public Tensor Ge(double other) => s_geS.Call(this, other);

    public Tensor Maximum(Tensor other) => s_maximum.Call(this, other);
    public Tensor Minimum(Tensor other) => s_minimum.Call(this, other);
    public Tensor Clamp(double? min = null, double? max = null) => s_clamp.Call(this, Arg.Of(min), Arg.Of(max));
    public Tensor Clamp(Tensor? min, Tensor? max) => s_clampT.Call(this, min, max);
    public Tensor Clamp_(double? min = null, double? max = null) { s_clamp_.CallInPlace(this, Arg.Of(min), Arg.Of(max)); return this; }

    /// <summary>Elementwise condition ? this : other (torch.where(condition, self, other)).</summary>
    public Tensor Where(Tensor condition, Tensor other) => s_where.Call(condition, this, other);

    /// <summary>Same shape and all |a-b| &lt;= atol + rtol*|b|.</summary>
    public bool AllClose(Tensor other, double rtol = 1e-5, double atol = 1e-8, bool equalNan = false) =>
        s_allclose.CallScalar(this, other, rtol, atol, equalNan).I != 0;
    public Tensor IsClose(Tensor other, double rtol = 1e-5, double atol = 1e-8, bool equalNan = false) =>
        s_isclose.Call(this, other, rtol, atol, equalNan);
    /// <summary>Same shape and the same values (torch.equal).</summary>
    public bool Equal(Tensor other) => s_equal.CallScalar(this, other).I != 0;

    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    public static Tensor operator +(Tensor a, double b) => a.Add(b);
    public static Tensor operator +(Tensor a, long b) => a.Add(b);
    public static Tensor operator +(double a, Tensor b) => b.Add(a);
    public static Tensor operator +(long a, Tensor b) => b.Add(a);
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    public static Tensor operator -(Tensor a, double b) => a.Sub(b);
    public static Tensor operator -(Tensor a, long b) => a.Sub(b);
    public static Tensor operator -(double a, Tensor b) => s_rsubS.Call(b, a);
    public static Tensor operator -(long a, Tensor b) => s_rsubS.Call(b, a);
    public static Tensor operator -(Tensor a) => a.Neg();
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    public static Tensor operator *(Tensor a, double b) => a.Mul(b);
    public static Tensor operator *(Tensor a, long b) => a.Mul(b);
    public static Tensor operator *(double a, Tensor b) => b.Mul(a);
    public static Tensor operator *(long a, Tensor b) => b.Mul(a);
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    public static Tensor operator /(Tensor a, double b) => a.Div(b);
    public static Tensor operator /(double a, Tensor b)
    {
        using var r = b.Reciprocal();
        return r.Mul(a);
    }
    public static Tensor operator %(Tensor a, Tensor b) => a.Remainder(b);
    public static Tensor operator %(Tensor a, double b) => a.Remainder(b);
    public static Tensor operator %(Tensor a, long b) => a.Remainder(b);

    public static Tensor operator <(Tensor a, Tensor b) => a.Lt(b);
    public static Tensor operator <(Tensor a, double b) => a.Lt(b);
    public static Tensor operator >(Tensor a, Tensor b) => a.Gt(b);
    public static Tensor operator >(Tensor a, double b) => a.Gt(b);
    public static Tensor operator <=(Tensor a, Tensor b) => a.Le(b);
    public static Tensor operator <=(Tensor a, double b) => a.Le(b);
    public static Tensor operator >=(Tensor a, Tensor b) => a.Ge(b);
    public static Tensor operator >=(Tensor a, double b) => a.Ge(b);
    public static Tensor operator <(double a, Tensor b) => b.Gt(a);
    public static Tensor operator >(double a, Tensor b) => b.Lt(a);
    public static Tensor operator <=(double a, Tensor b) => b.Ge(a);
    public static Tensor operator >=(double a, Tensor b) => b.Le(a);

    /// <summary>Logical/bitwise and, or, xor, not: for bool masks and integer tensors.</summary>
    public static Tensor operator &(Tensor a, Tensor b) => s_and.Call(a, b);
    public static Tensor operator |(Tensor a, Tensor b) => s_or.Call(a, b);
    public static Tensor operator ^(Tensor a, Tensor b) => s_xor.Call(a, b);
    public static Tensor operator ~(Tensor a) => a.BitwiseNot();
    public static Tensor operator !(Tensor a) => a.LogicalNot();
}
