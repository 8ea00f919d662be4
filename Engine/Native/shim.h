// Engine's native shim: a plain C ABI over libtorch.
//
// Every export catches every C++ exception, stores its message in a thread-local buffer and
// returns a failure value (negative int or null); eng_last_error() returns the message. No
// libtorch error may unwind into the CLR.
//
// A tensor handle is a c10::TensorImpl* that owns one reference; eng_tensor_free drops it.
#pragma once
#include <torch/torch.h>
#include <cstdint>
#include <string>

#define ENG_EXPORT extern "C" __attribute__((visibility("default")))

using eng_handle = c10::TensorImpl*;

// One argument or result of a boxed operator call. Blittable; mirrored by NativeArg in C#.
struct eng_arg {
  int32_t kind;
  int32_t aux;
  int64_t i;
  double d;
  void* p;
};

enum eng_kind : int32_t {
  ENG_ABSENT = 0,     // use the schema's default value
  ENG_NONE = 1,
  ENG_TENSOR = 2,     // p = handle (null means None)
  ENG_INT = 3,        // i
  ENG_DOUBLE = 4,     // d
  ENG_BOOL = 5,       // i != 0
  ENG_INTLIST = 6,    // p = int64_t*, i = length
  ENG_DOUBLELIST = 7, // p = double*, i = length
  ENG_BOOLLIST = 8,   // p = uint8_t*, i = length
  ENG_TENSORLIST = 9, // p = eng_handle*, i = length (result: array from eng_alloc, free with eng_free)
  ENG_OPTTENSORLIST = 10, // p = eng_handle*, i = length, null entries are None
  ENG_SCALARTYPE = 11,    // i = c10::ScalarType
  ENG_DEVICE = 12,        // i = c10::DeviceType, aux = index (-1: current)
  ENG_STRING = 13,        // p = utf-8 bytes, i = length
  ENG_LAYOUT = 14,        // i = c10::Layout
  ENG_MEMORYFORMAT = 15,  // i = c10::MemoryFormat
  ENG_GENERATOR = 16,     // p = at::Generator*
};

ENG_EXPORT void eng_tensor_free(eng_handle h);
ENG_EXPORT const char* eng_last_error();

namespace eng {
void set_error(const std::string& message);
void clear_error();
// Borrow a handle as an at::Tensor (adds a reference). Null gives an undefined tensor.
at::Tensor borrow(eng_handle h);
// Give a tensor's reference to the caller as a handle. Undefined gives null.
eng_handle release(at::Tensor t);
}  // namespace eng

// Runs body; on exception records the message and returns fail.
#define ENG_GUARD(fail, ...)                                                   \
  try {                                                                        \
    __VA_ARGS__                                                                \
  } catch (const c10::Error& e) {                                              \
    eng::set_error(e.what_without_backtrace());                                \
    return fail;                                                               \
  } catch (const std::exception& e) {                                          \
    eng::set_error(e.what());                                                  \
    return fail;                                                               \
  } catch (...) {                                                              \
    eng::set_error("unknown native exception");                                \
    return fail;                                                               \
  }
