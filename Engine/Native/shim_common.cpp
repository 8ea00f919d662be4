// Error buffer and handle ownership shared by every export.
#include "shim.h"

#include <c10/util/Logging.h>

namespace {
thread_local std::string g_last_error;

// Every c10::Error records a symbolized C++ backtrace when it is constructed: 10-25 ms a throw
// with libtorch_cpu's symbol tables (measured on libtorch 1.13: a failed matmul took 24 ms, a
// successful add 3 us). The shim only ever reports what_without_backtrace(), so stop collecting
// it; a loop that probes and catches errors then costs microseconds, not a CPU-second per 50.
const bool g_no_backtraces = [] {
  c10::SetStackTraceFetcher([] { return std::string(); });
  return true;
}();
}  // namespace

namespace eng {
void set_error(const std::string& message) { g_last_error = message; }
void clear_error() { g_last_error.clear(); }

using TensorPtr = c10::intrusive_ptr<c10::TensorImpl, c10::UndefinedTensorImpl>;

at::Tensor borrow(eng_handle h) {
  if (h == nullptr) return at::Tensor();
  return at::Tensor(TensorPtr::reclaim_copy(h));
}

eng_handle release(at::Tensor t) {
  if (!t.defined()) return nullptr;
  return t.unsafeReleaseTensorImpl();
}
}  // namespace eng

ENG_EXPORT const char* eng_last_error() { return g_last_error.c_str(); }

ENG_EXPORT void eng_tensor_free(eng_handle h) {
  if (h != nullptr) eng::TensorPtr::reclaim(h);  // drops the handle's reference
}

// A second handle to the same tensor (one more reference).
ENG_EXPORT eng_handle eng_tensor_retain(eng_handle h) {
  if (h != nullptr) c10::raw::intrusive_ptr::incref(h);
  return h;
}

ENG_EXPORT void* eng_alloc(int64_t bytes) { return std::malloc(static_cast<size_t>(bytes)); }
ENG_EXPORT void eng_free(void* p) { std::free(p); }
