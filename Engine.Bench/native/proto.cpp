// Prototypes of faster engine paths, for Engine.Bench's breakdown only (the engine's shim is not
// touched): typed, unboxed exports for a few hot ops, called from C# exactly as eng_op_call is
// (same handle convention: a handle is a c10::TensorImpl* owning one reference). The difference
// between these rows and the engine's boxed rows is what typed exports would save.
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/ScalarOps.h>

#include <cstdint>

#define PROTO_EXPORT extern "C" __attribute__((visibility("default")))

namespace {
using TensorPtr = c10::intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;
using handle = c10::TensorImpl*;

at::Tensor borrow(handle h) { return at::Tensor(TensorPtr::reclaim_copy(h)); }
handle release(at::Tensor t) { return t.defined() ? t.unsafeReleaseTensorImpl() : nullptr; }
}  // namespace

// at::add(a, b, alpha): the dispatcher's unboxed path, what Python's binding calls.
PROTO_EXPORT handle proto_add(handle a, handle b, double alpha) {
  try {
    return release(at::add(borrow(a), borrow(b), alpha));
  } catch (...) {
    return nullptr;
  }
}

// The same without the two temporary at::Tensor owners (borrowed references, no refcount traffic).
PROTO_EXPORT handle proto_add_borrowed(handle a, handle b, double alpha) {
  try {
    // at::Tensor is one intrusive_ptr, i.e. one TensorImpl*: view the handles as tensors.
    const auto& ta = *reinterpret_cast<const at::Tensor*>(&a);
    const auto& tb = *reinterpret_cast<const at::Tensor*>(&b);
    return release(at::add(ta, tb, alpha));
  } catch (...) {
    return nullptr;
  }
}

PROTO_EXPORT int32_t proto_add_(handle a, handle b, double alpha) {
  try {
    borrow(a).add_(borrow(b), alpha);
    return 0;
  } catch (...) {
    return -1;
  }
}

// mul.Scalar, the overload the engine's Mul(double) calls.
PROTO_EXPORT handle proto_mul_scalar(handle a, double s) {
  try {
    return release(at::mul(borrow(a), s));
  } catch (...) {
    return nullptr;
  }
}

// mul.Tensor with a wrapped-number 0-d tensor: what Python's a.mul(2.0) does.
PROTO_EXPORT handle proto_mul_wrapped(handle a, double s) {
  try {
    auto w = c10::scalar_to_tensor(s);
    w.unsafeGetTensorImpl()->set_wrapped_number(true);
    return release(at::mul(borrow(a), w));
  } catch (...) {
    return nullptr;
  }
}
