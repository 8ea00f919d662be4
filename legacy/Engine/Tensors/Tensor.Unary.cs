namespace Engine;

// Elementwise unary functions, each one ATen operator (out-of-place and in-place with a trailing _).
public partial class Tensor
{
    static readonly Op s_abs = new("aten::abs");
    static readonly Op s_sign = new("aten::sign");
    static readonly Op s_sqrt = new("aten::sqrt");
    static readonly Op s_rsqrt = new("aten::rsqrt");
    static readonly Op s_exp = new("aten::exp");
    static readonly Op s_log = new("aten::log");
    static readonly Op s_log1p = new("aten::log1p");
    static readonly Op s_log2 = new("aten::log2");
    static readonly Op s_expm1 = new("aten::expm1");
    static readonly Op s_sin = new("aten::sin");
    static readonly Op s_cos = new("aten::cos");
    static readonly Op s_tan = new("aten::tan");
    static readonly Op s_tanh = new("aten::tanh");
    static readonly Op s_sigmoid = new("aten::sigmoid");
    static readonly Op s_relu = new("aten::relu");
    static readonly Op s_floor = new("aten::floor");
    static readonly Op s_ceil = new("aten::ceil");
    static readonly Op s_round = new("aten::round");
    static readonly Op s_trunc = new("aten::trunc");
    static readonly Op s_reciprocal = new("aten::reciprocal");
    static readonly Op s_neg = new("aten::neg");
    static readonly Op s_erf = new("aten::erf");
    static readonly Op s_square = new("aten::square");
    static readonly Op s_asin = new("aten::asin");
    static readonly Op s_acos = new("aten::acos");
    static readonly Op s_atan = new("aten::atan");
    static readonly Op s_sinh = new("aten::sinh");
    static readonly Op s_cosh = new("aten::cosh");
    static readonly Op s_frac = new("aten::frac");
    static readonly Op s_logical_not = new("aten::logical_not");
    static readonly Op s_isnan = new("aten::isnan");
    static readonly Op s_isinf = new("aten::isinf");
    static readonly Op s_isfinite = new("aten::isfinite");
    static readonly Op s_bitwise_not = new("aten::bitwise_not");
    static readonly Op s_silu = new("aten::silu");
    static readonly Op s_gelu = new("aten::gelu");
    static readonly Op s_abs_ = new("aten::abs_");
    static readonly Op s_sqrt_ = new("aten::sqrt_");
    static readonly Op s_rsqrt_ = new("aten::rsqrt_");
    static readonly Op s_exp_ = new("aten::exp_");
    static readonly Op s_log_ = new("aten::log_");
    static readonly Op s_tanh_ = new("aten::tanh_");
    static readonly Op s_sigmoid_ = new("aten::sigmoid_");
    static readonly Op s_relu_ = new("aten::relu_");
    static readonly Op s_neg_ = new("aten::neg_");
    static readonly Op s_reciprocal_ = new("aten::reciprocal_");
    static readonly Op s_floor_ = new("aten::floor_");
    static readonly Op s_ceil_ = new("aten::ceil_");
    static readonly Op s_round_ = new("aten::round_");
    static readonly Op s_sign_ = new("aten::sign_");
    static readonly Op s_square_ = new("aten::square_");
    static readonly Op s_zero_ = new("aten::zero_");

    public Tensor Abs() => s_abs.Call(this);
    public Tensor Sign() => s_sign.Call(this);
    public Tensor Sqrt() => s_sqrt.Call(this);
    public Tensor Rsqrt() => s_rsqrt.Call(this);
    public Tensor Exp() => s_exp.Call(this);
    public Tensor Log() => s_log.Call(this);
    public Tensor Log1p() => s_log1p.Call(this);
    public Tensor Log2() => s_log2.Call(this);
    public Tensor Expm1() => s_expm1.Call(this);
    public Tensor Sin() => s_sin.Call(this);
    public Tensor Cos() => s_cos.Call(this);
    public Tensor Tan() => s_tan.Call(this);
    public Tensor Tanh() => s_tanh.Call(this);
    public Tensor Sigmoid() => s_sigmoid.Call(this);
    public Tensor Relu() => s_relu.Call(this);
    public Tensor Floor() => s_floor.Call(this);
    public Tensor Ceil() => s_ceil.Call(this);
    public Tensor Round() => s_round.Call(this);
    public Tensor Trunc() => s_trunc.Call(this);
    public Tensor Reciprocal() => s_reciprocal.Call(this);
    public Tensor Neg() => s_neg.Call(this);
    public Tensor Erf() => s_erf.Call(this);
    public Tensor Square() => s_square.Call(this);
    public Tensor Asin() => s_asin.Call(this);
    public Tensor Acos() => s_acos.Call(this);
    public Tensor Atan() => s_atan.Call(this);
    public Tensor Sinh() => s_sinh.Call(this);
    public Tensor Cosh() => s_cosh.Call(this);
    public Tensor Frac() => s_frac.Call(this);
    public Tensor LogicalNot() => s_logical_not.Call(this);
    public Tensor Isnan() => s_isnan.Call(this);
    public Tensor Isinf() => s_isinf.Call(this);
    public Tensor Isfinite() => s_isfinite.Call(this);
    public Tensor BitwiseNot() => s_bitwise_not.Call(this);
    public Tensor Silu() => s_silu.Call(this);
    public Tensor Gelu() => s_gelu.Call(this);

    public Tensor Abs_() { s_abs_.CallInPlace(this); return this; }
    public Tensor Sqrt_() { s_sqrt_.CallInPlace(this); return this; }
    public Tensor Rsqrt_() { s_rsqrt_.CallInPlace(this); return this; }
    public Tensor Exp_() { s_exp_.CallInPlace(this); return this; }
    public Tensor Log_() { s_log_.CallInPlace(this); return this; }
    public Tensor Tanh_() { s_tanh_.CallInPlace(this); return this; }
    public Tensor Sigmoid_() { s_sigmoid_.CallInPlace(this); return this; }
    public Tensor Relu_() { s_relu_.CallInPlace(this); return this; }
    public Tensor Neg_() { s_neg_.CallInPlace(this); return this; }
    public Tensor Reciprocal_() { s_reciprocal_.CallInPlace(this); return this; }
    public Tensor Floor_() { s_floor_.CallInPlace(this); return this; }
    public Tensor Ceil_() { s_ceil_.CallInPlace(this); return this; }
    public Tensor Round_() { s_round_.CallInPlace(this); return this; }
    public Tensor Sign_() { s_sign_.CallInPlace(this); return this; }
    public Tensor Square_() { s_square_.CallInPlace(this); return this; }
    public Tensor Zero_() { s_zero_.CallInPlace(this); return this; }
}
