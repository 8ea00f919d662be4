// Tensor metadata and copies between libtorch and managed memory.
#include "shim.h"

#include <cstring>

namespace {
at::Tensor checked(eng_handle h) {
  if (h == nullptr) throw std::invalid_argument("null tensor handle");
  return eng::borrow(h);
}
}  // namespace

// dtype, device type, device index, ndim, requires_grad, is_contiguous, is_leaf in one call.
ENG_EXPORT int32_t eng_tensor_info(eng_handle h, int32_t* out7) {
  ENG_GUARD(-1, {
    auto t = checked(h);
    out7[0] = static_cast<int32_t>(t.scalar_type());
    out7[1] = static_cast<int32_t>(t.device().type());
    out7[2] = static_cast<int32_t>(t.device().index());
    out7[3] = static_cast<int32_t>(t.dim());
    out7[4] = t.requires_grad() ? 1 : 0;
    out7[5] = t.is_contiguous() ? 1 : 0;
    out7[6] = t.is_leaf() ? 1 : 0;
    return 0;
  })
}

ENG_EXPORT int32_t eng_tensor_dim(eng_handle h) {
  ENG_GUARD(-1, { return static_cast<int32_t>(checked(h).dim()); })
}

ENG_EXPORT int32_t eng_tensor_scalar_type(eng_handle h) {
  ENG_GUARD(-1, { return static_cast<int32_t>(checked(h).scalar_type()); })
}

// Writes dim() sizes into out; returns dim().
ENG_EXPORT int32_t eng_tensor_sizes(eng_handle h, int64_t* out, int32_t cap) {
  ENG_GUARD(-1, {
    auto t = checked(h);
    auto sizes = t.sizes();
    auto n = static_cast<int32_t>(sizes.size());
    for (int32_t k = 0; k < n && k < cap; ++k) out[k] = sizes[k];
    return n;
  })
}

ENG_EXPORT int32_t eng_tensor_strides(eng_handle h, int64_t* out, int32_t cap) {
  ENG_GUARD(-1, {
    auto t = checked(h);
    auto strides = t.strides();
    auto n = static_cast<int32_t>(strides.size());
    for (int32_t k = 0; k < n && k < cap; ++k) out[k] = strides[k];
    return n;
  })
}

ENG_EXPORT int64_t eng_tensor_numel(eng_handle h) {
  ENG_GUARD(-1, { return checked(h).numel(); })
}

ENG_EXPORT void* eng_tensor_data_ptr(eng_handle h) {
  ENG_GUARD(nullptr, {
    auto t = checked(h);
    if (t.numel() == 0) return nullptr;
    return t.data_ptr();
  })
}

// A new CPU tensor of the given shape and dtype holding a copy of data (nbytes long).
ENG_EXPORT eng_handle eng_tensor_from_data(const void* data, int64_t nbytes, const int64_t* sizes,
                                           int32_t ndim, int32_t dtype) {
  ENG_GUARD(nullptr, {
    auto t = at::empty(c10::IntArrayRef(sizes, static_cast<size_t>(ndim)),
                       at::TensorOptions().dtype(static_cast<c10::ScalarType>(dtype)));
    auto expected = static_cast<int64_t>(t.numel() * t.element_size());
    if (expected != nbytes)
      throw std::invalid_argument("data has " + std::to_string(nbytes) + " bytes, shape " +
                                  c10::str(t.sizes()) + " needs " + std::to_string(expected));
    if (nbytes > 0) std::memcpy(t.data_ptr(), data, static_cast<size_t>(nbytes));
    return eng::release(std::move(t));
  })
}

// Copies the tensor's elements (any device, any strides) in row-major order into dst.
ENG_EXPORT int32_t eng_tensor_copy_to(eng_handle h, void* dst, int64_t nbytes) {
  ENG_GUARD(-1, {
    auto t = checked(h);
    at::NoGradGuard no_grad;
    auto c = t.to(at::kCPU).contiguous();
    auto have = static_cast<int64_t>(c.numel() * c.element_size());
    if (have != nbytes)
      throw std::invalid_argument("destination has " + std::to_string(nbytes) +
                                  " bytes, tensor has " + std::to_string(have));
    if (nbytes > 0) std::memcpy(dst, c.data_ptr(), static_cast<size_t>(nbytes));
    return 0;
  })
}

// Replaces the tensor's data with new_data's, keeping its identity (what module.to() and
// param.data = x do): optimizers and hooks that hold the tensor see the new values.
ENG_EXPORT int32_t eng_tensor_set_data(eng_handle h, eng_handle new_data) {
  ENG_GUARD(-1, {
    auto t = checked(h);
    t.set_data(checked(new_data));
    return 0;
  })
}
