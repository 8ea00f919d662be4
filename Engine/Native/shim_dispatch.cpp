// The generic operator call: any ATen operator by name and overload through the boxed
// dispatcher. Arguments the caller leaves out take the default from the runtime's own schema,
// so the same C# code runs on libtorch 1.13 and 2.x.
#include "shim.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <unordered_map>

namespace {

struct OpEntry {
  c10::OperatorHandle handle;
  std::string full_name;
};

// Entries are never moved or removed, so readers index them without a lock.
constexpr int kMaxOps = 16384;
OpEntry* g_ops[kMaxOps];
std::atomic<int> g_op_count{0};
std::mutex g_op_mutex;
std::unordered_map<std::string, int> g_op_ids;

std::vector<int64_t> int_list(const eng_arg& a) {
  auto* p = static_cast<const int64_t*>(a.p);
  return std::vector<int64_t>(p, p + a.i);
}

c10::IValue to_ivalue(const eng_arg& a, const c10::Argument& formal) {
  const auto kind = formal.type()->kind();
  switch (a.kind) {
    case ENG_NONE:
      return c10::IValue();
    case ENG_TENSOR:
      return a.p ? c10::IValue(eng::borrow(static_cast<eng_handle>(a.p))) : c10::IValue();
    case ENG_INT:
      // A float argument given an integer: widen, as Python does.
      if (kind == c10::TypeKind::FloatType) return c10::IValue(static_cast<double>(a.i));
      if (kind == c10::TypeKind::OptionalType &&
          formal.type()->castRaw<c10::OptionalType>()->getElementType()->kind() ==
              c10::TypeKind::FloatType)
        return c10::IValue(static_cast<double>(a.i));
      return c10::IValue(a.i);
    case ENG_DOUBLE:
      return c10::IValue(a.d);
    case ENG_BOOL:
      return c10::IValue(a.i != 0);
    case ENG_INTLIST:
      return c10::IValue(int_list(a));
    case ENG_DOUBLELIST: {
      auto* p = static_cast<const double*>(a.p);
      return c10::IValue(std::vector<double>(p, p + a.i));
    }
    case ENG_BOOLLIST: {
      auto* p = static_cast<const uint8_t*>(a.p);
      c10::List<bool> list;
      for (int64_t k = 0; k < a.i; ++k) list.push_back(p[k] != 0);
      return c10::IValue(list);
    }
    case ENG_TENSORLIST: {
      auto* p = static_cast<eng_handle const*>(a.p);
      std::vector<at::Tensor> list;
      list.reserve(static_cast<size_t>(a.i));
      for (int64_t k = 0; k < a.i; ++k) list.push_back(eng::borrow(p[k]));
      return c10::IValue(list);
    }
    case ENG_OPTTENSORLIST: {
      auto* p = static_cast<eng_handle const*>(a.p);
      c10::List<c10::optional<at::Tensor>> list;
      for (int64_t k = 0; k < a.i; ++k) {
        if (p[k]) list.push_back(eng::borrow(p[k]));
        else list.push_back(c10::nullopt);
      }
      return c10::IValue(list);
    }
    case ENG_SCALARTYPE:
      return c10::IValue(static_cast<c10::ScalarType>(a.i));
    case ENG_DEVICE:
      return c10::IValue(c10::Device(static_cast<c10::DeviceType>(a.i),
                                     static_cast<c10::DeviceIndex>(a.aux)));
    case ENG_STRING:
      return c10::IValue(std::string(static_cast<const char*>(a.p), static_cast<size_t>(a.i)));
    case ENG_LAYOUT:
      return c10::IValue(static_cast<c10::Layout>(a.i));
    case ENG_MEMORYFORMAT:
      return c10::IValue(static_cast<c10::MemoryFormat>(a.i));
    case ENG_GENERATOR:
      return a.p ? c10::IValue(*static_cast<at::Generator*>(a.p)) : c10::IValue();
    default:
      throw std::invalid_argument("unknown argument kind " + std::to_string(a.kind) +
                                  " for argument '" + formal.name() + "'");
  }
}

void from_ivalue(c10::IValue&& v, eng_arg& out) {
  out = eng_arg{ENG_NONE, 0, 0, 0.0, nullptr};
  if (v.isTensor()) {
    // An undefined tensor (e.g. a gradient an output_mask switched off) is None, not a null handle.
    auto t = std::move(v).toTensor();
    if (t.defined()) {
      out.kind = ENG_TENSOR;
      out.p = eng::release(std::move(t));
    }
  } else if (v.isTensorList()) {
    auto list = std::move(v).toTensorList();
    auto n = list.size();
    auto* arr = static_cast<eng_handle*>(std::malloc(sizeof(eng_handle) * (n ? n : 1)));
    for (size_t k = 0; k < n; ++k) arr[k] = eng::release(list.get(k));
    out.kind = ENG_TENSORLIST;
    out.p = arr;
    out.i = static_cast<int64_t>(n);
  } else if (v.isBool()) {
    out.kind = ENG_BOOL;
    out.i = v.toBool() ? 1 : 0;
  } else if (v.isInt()) {
    out.kind = ENG_INT;
    out.i = v.toInt();
  } else if (v.isDouble()) {
    out.kind = ENG_DOUBLE;
    out.d = v.toDouble();
  } else if (v.isNone()) {
    out.kind = ENG_NONE;
  } else if (v.isIntList()) {
    auto list = v.toIntVector();
    auto* arr = static_cast<int64_t*>(std::malloc(sizeof(int64_t) * (list.size() ? list.size() : 1)));
    std::copy(list.begin(), list.end(), arr);
    out.kind = ENG_INTLIST;
    out.p = arr;
    out.i = static_cast<int64_t>(list.size());
  } else {
    throw std::runtime_error("unsupported result type " + v.tagKind());
  }
}

void release_results(eng_arg* outs, int n) {
  for (int k = 0; k < n; ++k) {
    if (outs[k].kind == ENG_TENSOR) eng_tensor_free(static_cast<eng_handle>(outs[k].p));
    if (outs[k].kind == ENG_TENSORLIST) {
      auto* arr = static_cast<eng_handle*>(outs[k].p);
      for (int64_t j = 0; j < outs[k].i; ++j) eng_tensor_free(arr[j]);
      std::free(arr);
    }
    if (outs[k].kind == ENG_INTLIST) std::free(outs[k].p);
  }
}

}  // namespace


// Looks an operator up once; returns its id for eng_op_call, or -1 if there is none.
ENG_EXPORT int32_t eng_op_find(const char* name, const char* overload) {
  ENG_GUARD(-1, {
    std::string key = std::string(name) + "." + overload;
    std::lock_guard<std::mutex> lock(g_op_mutex);
    auto it = g_op_ids.find(key);
    if (it != g_op_ids.end()) return it->second;
    auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
    if (!handle.has_value()) {
      eng::set_error(std::string("no operator ") + name +
                     (overload[0] ? std::string(".") + overload : std::string()) +
                     " is registered in this libtorch");
      return -1;
    }
    int id = g_op_count.load();
    if (id >= kMaxOps) throw std::runtime_error("operator table full");
    g_ops[id] = new OpEntry{*handle, key};
    g_op_count.store(id + 1);
    g_op_ids.emplace(key, id);
    return id;
  })
}

// Writes the operator's schema text into buf (truncated to cap); returns its full length.
ENG_EXPORT int32_t eng_op_schema(int32_t id, char* buf, int32_t cap) {
  ENG_GUARD(-1, {
    if (id < 0 || id >= g_op_count.load()) throw std::out_of_range("bad operator id");
    std::ostringstream s;
    s << g_ops[id]->handle.schema();
    auto text = s.str();
    if (cap > 0) {
      auto n = std::min<size_t>(text.size(), static_cast<size_t>(cap - 1));
      std::memcpy(buf, text.data(), n);
      buf[n] = 0;
    }
    return static_cast<int32_t>(text.size());
  })
}

// Lists every registered operator as "name.overload" lines; returns the full length.
ENG_EXPORT int64_t eng_op_list(char* buf, int64_t cap) {
  ENG_GUARD(-1, {
    std::string text;
    for (const auto& name : c10::Dispatcher::singleton().getAllOpNames()) {
      text += name.name;
      if (!name.overload_name.empty()) text += "." + name.overload_name;
      text += "\n";
    }
    if (cap > 0) {
      auto n = std::min<int64_t>(static_cast<int64_t>(text.size()), cap - 1);
      std::memcpy(buf, text.data(), static_cast<size_t>(n));
      buf[n] = 0;
    }
    return static_cast<int64_t>(text.size());
  })
}

// Calls operator id with nargs positional arguments (ENG_ABSENT or missing ones take the
// schema default). Writes the results to outs; returns their count, or -1 on error.
ENG_EXPORT int32_t eng_op_call(int32_t id, const eng_arg* args, int32_t nargs, eng_arg* outs,
                               int32_t max_outs) {
  ENG_GUARD(-1, {
    if (id < 0 || id >= g_op_count.load()) throw std::out_of_range("bad operator id");
    const auto& op = g_ops[id]->handle;
    const auto& schema = op.schema();
    const auto& formals = schema.arguments();
    if (static_cast<size_t>(nargs) > formals.size())
      throw std::invalid_argument(g_ops[id]->full_name + " takes " +
                                  std::to_string(formals.size()) + " arguments, got " +
                                  std::to_string(nargs));
    thread_local torch::jit::Stack stack;
    stack.clear();
    // Empty the stack however we leave (a failed call would otherwise keep its inputs alive
    // until the next call on this thread).
    struct ClearOnExit {
      torch::jit::Stack& s;
      ~ClearOnExit() { s.clear(); }
    } clear_on_exit{stack};
    for (size_t k = 0; k < formals.size(); ++k) {
      if (k < static_cast<size_t>(nargs) && args[k].kind != ENG_ABSENT) {
        stack.push_back(to_ivalue(args[k], formals[k]));
      } else if (formals[k].default_value().has_value()) {
        stack.push_back(*formals[k].default_value());
      } else {
        throw std::invalid_argument("argument '" + formals[k].name() + "' of " +
                                    g_ops[id]->full_name + " has no default and was not given");
      }
    }
    op.callBoxed(&stack);
    int n = static_cast<int>(stack.size());
    if (n > max_outs) {
      stack.clear();
      throw std::runtime_error("operator returned " + std::to_string(n) + " results, room for " +
                               std::to_string(max_outs));
    }
    int done = 0;
    try {
      for (; done < n; ++done) from_ivalue(std::move(stack[done]), outs[done]);
    } catch (...) {
      release_results(outs, done);
      stack.clear();
      throw;
    }
    stack.clear();
    return n;
  })
}
