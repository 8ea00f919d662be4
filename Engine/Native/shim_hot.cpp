// Typed, unboxed calls for the smallest and most frequent ops (elementwise add, sub, mul, div,
// tensor-tensor and tensor-scalar, in and out of place). Everything else goes through the
// generic boxed call; these skip its argument conversion, which is a quarter of a small op's
// cost (measured in Engine.Bench's breakdown).
#include "shim.h"

#include <ATen/ScalarOps.h>

namespace {

enum HotOp : int32_t { HOT_ADD = 0, HOT_SUB = 1, HOT_MUL = 2, HOT_DIV = 3 };

c10::Scalar scalar(int32_t is_int, int64_t i, double d) {
  return is_int ? c10::Scalar(i) : c10::Scalar(d);
}

at::Tensor binary(int32_t op, const at::Tensor& a, const at::Tensor& b, const c10::Scalar& alpha) {
  switch (op) {
    case HOT_ADD: return at::add(a, b, alpha);
    case HOT_SUB: return at::sub(a, b, alpha);
    case HOT_MUL: return at::mul(a, b);
    case HOT_DIV: return at::div(a, b);
    default: throw std::invalid_argument("unknown hot op " + std::to_string(op));
  }
}

void binary_(int32_t op, const at::Tensor& a, const at::Tensor& b, const c10::Scalar& alpha) {
  switch (op) {
    case HOT_ADD: a.add_(b, alpha); return;
    case HOT_SUB: a.sub_(b, alpha); return;
    case HOT_MUL: a.mul_(b); return;
    case HOT_DIV: a.div_(b); return;
    default: throw std::invalid_argument("unknown hot op " + std::to_string(op));
  }
}

// A number becomes a 0-d "wrapped number" tensor and the Tensor overload runs, as in Python:
// same type promotion as the Scalar overload, and a faster path through libtorch.
at::Tensor with_scalar(int32_t op, const at::Tensor& a, const c10::Scalar& s) {
  auto w = at::native::wrapped_scalar_tensor(s);
  switch (op) {
    case HOT_ADD: return at::add(a, w);
    case HOT_SUB: return at::sub(a, w);
    case HOT_MUL: return at::mul(a, w);
    case HOT_DIV: return at::div(a, w);
    default: throw std::invalid_argument("unknown hot op " + std::to_string(op));
  }
}

void with_scalar_(int32_t op, const at::Tensor& a, const c10::Scalar& s) {
  auto w = at::native::wrapped_scalar_tensor(s);
  switch (op) {
    case HOT_ADD: a.add_(w); return;
    case HOT_SUB: a.sub_(w); return;
    case HOT_MUL: a.mul_(w); return;
    case HOT_DIV: a.div_(w); return;
    default: throw std::invalid_argument("unknown hot op " + std::to_string(op));
  }
}

at::Tensor checked(eng_handle h) {
  if (!h) throw std::invalid_argument("null tensor handle");
  return eng::borrow(h);
}

}  // namespace

// a (op) b [* alpha for add/sub]: a new tensor, or null on error.
ENG_EXPORT eng_handle eng_hot_binary(int32_t op, eng_handle a, eng_handle b, int32_t alpha_is_int,
                                     int64_t ialpha, double dalpha) {
  ENG_GUARD(nullptr, {
    return eng::release(binary(op, checked(a), checked(b), scalar(alpha_is_int, ialpha, dalpha)));
  })
}

// a (op)= b in place; 0, or -1 on error.
ENG_EXPORT int32_t eng_hot_binary_(int32_t op, eng_handle a, eng_handle b, int32_t alpha_is_int,
                                   int64_t ialpha, double dalpha) {
  ENG_GUARD(-1, {
    binary_(op, checked(a), checked(b), scalar(alpha_is_int, ialpha, dalpha));
    return 0;
  })
}

// a (op) s for a scalar s (an integer keeps integer tensors integral).
ENG_EXPORT eng_handle eng_hot_scalar(int32_t op, eng_handle a, int32_t is_int, int64_t i, double d) {
  ENG_GUARD(nullptr, { return eng::release(with_scalar(op, checked(a), scalar(is_int, i, d))); })
}

ENG_EXPORT int32_t eng_hot_scalar_(int32_t op, eng_handle a, int32_t is_int, int64_t i, double d) {
  ENG_GUARD(-1, {
    with_scalar_(op, checked(a), scalar(is_int, i, d));
    return 0;
  })
}
