// Autograd: requires-grad, .grad, backward, grad(), grad mode.
#include "shim.h"

#include <torch/csrc/autograd/autograd.h>

namespace {
std::vector<at::Tensor> tensors(const eng_handle* hs, int32_t n) {
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int32_t k = 0; k < n; ++k) v.push_back(eng::borrow(hs[k]));
  return v;
}
}  // namespace

ENG_EXPORT int32_t eng_tensor_set_requires_grad(eng_handle h, int32_t value) {
  ENG_GUARD(-1, {
    if (!h) throw std::invalid_argument("null tensor handle");
    // requires_grad_ (not set_requires_grad) refuses to switch a non-leaf off, as Python does,
    // rather than silently leaving it on.
    eng::borrow(h).requires_grad_(value != 0);
    return 0;
  })
}

// The tensor's .grad as a new handle, or null (with an empty error) if it has none.
ENG_EXPORT eng_handle eng_tensor_grad(eng_handle h) {
  ENG_GUARD(nullptr, {
    eng::clear_error();
    if (!h) throw std::invalid_argument("null tensor handle");
    return eng::release(eng::borrow(h).grad());
  })
}

// Sets .grad; a null grad clears it (PyTorch's zero_grad(set_to_none=True)).
ENG_EXPORT int32_t eng_tensor_set_grad(eng_handle h, eng_handle grad) {
  ENG_GUARD(-1, {
    if (!h) throw std::invalid_argument("null tensor handle");
    auto t = eng::borrow(h);
    if (grad) {
      // The checks Python's tensor.grad setter makes: a gradient must match its tensor.
      auto g = eng::borrow(grad);
      TORCH_CHECK(g.scalar_type() == t.scalar_type(), "assigned grad has data of a different type (",
                  g.scalar_type(), " for a ", t.scalar_type(), " tensor)");
      TORCH_CHECK(g.device() == t.device(), "assigned grad has data located on a different device (",
                  g.device(), " for a tensor on ", t.device(), ")");
      TORCH_CHECK(g.sizes().equals(t.sizes()), "assigned grad has data of a different size (",
                  g.sizes(), " for a tensor of size ", t.sizes(), ")");
      t.mutable_grad() = std::move(g);
    } else {
      t.mutable_grad().reset();
    }
    return 0;
  })
}

// The name of the node that made this tensor ("AddBackward0"), into buf; returns its length,
// 0 for a leaf.
ENG_EXPORT int32_t eng_tensor_grad_fn(eng_handle h, char* buf, int32_t cap) {
  ENG_GUARD(-1, {
    if (!h) throw std::invalid_argument("null tensor handle");
    auto fn = eng::borrow(h).grad_fn();
    std::string name = fn ? fn->name() : std::string();
    if (cap > 0) {
      auto n = std::min<size_t>(name.size(), static_cast<size_t>(cap - 1));
      std::memcpy(buf, name.data(), n);
      buf[n] = 0;
    }
    return static_cast<int32_t>(name.size());
  })
}

// grads may be null, or hold null entries, for scalar outputs (implicit ones).
ENG_EXPORT int32_t eng_backward(const eng_handle* outputs, const eng_handle* grads, int32_t n,
                                int32_t retain_graph, int32_t create_graph) {
  ENG_GUARD(-1, {
    auto outs = tensors(outputs, n);
    std::vector<at::Tensor> gs;
    if (grads) gs = tensors(grads, n);
    c10::optional<bool> retain;
    if (retain_graph >= 0) retain = retain_graph != 0;
    torch::autograd::backward(outs, gs, retain, create_graph != 0);
    return 0;
  })
}

// Gradients of outputs with respect to inputs, written as new handles to results (null for an
// unused input when allow_unused).
ENG_EXPORT int32_t eng_grad(const eng_handle* outputs, const eng_handle* grads, int32_t n_out,
                            const eng_handle* inputs, int32_t n_in, int32_t retain_graph,
                            int32_t create_graph, int32_t allow_unused, eng_handle* results) {
  ENG_GUARD(-1, {
    auto outs = tensors(outputs, n_out);
    std::vector<at::Tensor> gs;
    if (grads) gs = tensors(grads, n_out);
    auto ins = tensors(inputs, n_in);
    c10::optional<bool> retain;
    if (retain_graph >= 0) retain = retain_graph != 0;
    auto res = torch::autograd::grad(outs, ins, gs, retain, create_graph != 0, allow_unused != 0);
    for (int32_t k = 0; k < n_in; ++k) results[k] = eng::release(res[static_cast<size_t>(k)]);
    return 0;
  })
}

ENG_EXPORT int32_t eng_grad_enabled() { return c10::GradMode::is_enabled() ? 1 : 0; }
ENG_EXPORT void eng_set_grad_enabled(int32_t enabled) { c10::GradMode::set_enabled(enabled != 0); }

// For fused optimizer kernels: the address of p.grad's memory without creating a handle.
// Returns 0 if p has no grad, 1 with *data set if the grad is a dense contiguous tensor on the
// same device with p's dtype and numel, 2 if it exists but is not like that (use another path).
ENG_EXPORT int32_t eng_tensor_grad_data(eng_handle h, void** data) {
  ENG_GUARD(-1, {
    if (!h) throw std::invalid_argument("null tensor handle");
    auto p = eng::borrow(h);
    const auto& g = p.grad();
    if (!g.defined()) return 0;
    if (!g.is_contiguous() || g.scalar_type() != p.scalar_type() || g.numel() != p.numel() ||
        g.device() != p.device() || g.layout() != c10::kStrided)
      return 2;
    *data = g.numel() ? g.data_ptr() : nullptr;
    return 1;
  })
}

// New handles to the grads of n tensors (null where there is none): the multi-tensor paths build
// their gradient lists without a managed object per gradient.
ENG_EXPORT int32_t eng_tensor_grads(const eng_handle* hs, int32_t n, eng_handle* out) {
  ENG_GUARD(-1, {
    for (int32_t k = 0; k < n; ++k) out[k] = eng::release(eng::borrow(hs[k]).grad());
    return 0;
  })
}
