// The libtorch C++ floor of the engine benchmark: Engine.Bench's cases (same shapes, seeds,
// iteration counts, warm-up and repeats) through libtorch's C++ API, which is what Python's
// bindings call after parsing their arguments. Also the two layers under the engine's own call:
// the boxed dispatcher called from C++, and the shim's eng_op_call called from C++ (no CLR).
//
//   bench_floor out.json [--threads N] [--scale S] [--repeats R]
#include <ATen/ScalarOps.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "shim.h"

extern "C" {
int32_t eng_op_find(const char* name, const char* overload);
int32_t eng_op_call(int32_t id, const eng_arg* args, int32_t nargs, eng_arg* outs, int32_t max_outs);
}

namespace {

constexpr int kOpN = 5000, kSmallN = 100, kMnistN = 5;  // as Engine.Bench/Program.cs

struct Result {
  std::string name, group, description;
  int n;
  std::vector<double> wall, cpu;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

double thread_cpu() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string fmt(double s) {
  char buf[64];
  if (s < 1e-3) std::snprintf(buf, sizeof buf, "%.3f us", s * 1e6);
  else std::snprintf(buf, sizeof buf, "%.3f ms", s * 1e3);
  return buf;
}

struct Harness {
  int repeats = 15;
  double warmup = 0.5, scale = 1.0;
  std::vector<Result> results;

  struct Case {
    std::string name, group, description;
    int n;
    std::function<void(int)> body;
  };

  void measure(const std::string& name, const std::string& group, const std::string& description, int n,
               const std::function<void(int)>& body) {
    measure_interleaved({{name, group, description, n, body}});
  }

  // Round-robin repeats (1 of each case, then 2 of each...): load falls on every case alike.
  void measure_interleaved(const std::vector<Case>& cases, int reps = 0) {
    if (reps <= 0) reps = repeats;
    std::vector<Result> rs;
    for (auto& c : cases) {
      int n = std::max(1, static_cast<int>(std::lround(c.n * scale)));
      double start = now();
      for (int calls = 0; calls < 3 || now() - start < warmup; ++calls) c.body(n);
      rs.push_back(Result{c.name, c.group, c.description, n, {}, {}});
    }
    for (int k = 0; k < reps; ++k) {
      for (size_t j = 0; j < cases.size(); ++j) {
        auto& r = rs[j];
        double c0 = thread_cpu(), t0 = now();
        cases[j].body(r.n);
        double t1 = now(), c1 = thread_cpu();
        r.wall.push_back((t1 - t0) / r.n);
        r.cpu.push_back((c1 - c0) / r.n);
      }
    }
    for (auto& r : rs) {
      std::fprintf(stderr, "  %-28s %12s median  %12s min  %12s cpu  %12s cpu min  (N=%d, %d repeats)\n",
                   r.name.c_str(), fmt(median(r.wall)).c_str(),
                   fmt(*std::min_element(r.wall.begin(), r.wall.end())).c_str(), fmt(median(r.cpu)).c_str(),
                   fmt(*std::min_element(r.cpu.begin(), r.cpu.end())).c_str(), r.n, reps);
      results.push_back(std::move(r));
    }
  }
};

// Mirrors Engine.Bench/Mlp.cs and bench_python.py's Mlp.
struct Mlp {
  std::vector<at::Tensor> weights, biases, params;
  at::Tensor x, y;
  double lr;

  Mlp(const std::vector<int64_t>& sizes, int64_t batch, double lr_ = 0.1, uint64_t seed = 0) : lr(lr_) {
    torch::manual_seed(seed);
    for (size_t l = 0; l + 1 < sizes.size(); ++l) {
      auto r = torch::randn({sizes[l + 1], sizes[l]});
      weights.push_back(r.mul(1.0 / std::sqrt(static_cast<double>(sizes[l]))).requires_grad_());
      biases.push_back(torch::zeros({sizes[l + 1]}, torch::requires_grad()));
    }
    params = weights;
    params.insert(params.end(), biases.begin(), biases.end());
    x = torch::randn({batch, sizes[0]});
    y = torch::randint(0, sizes.back(), {batch});
  }

  double step(bool read_loss = false) {
    at::Tensor h = x;
    for (size_t l = 0; l < weights.size(); ++l) {
      h = at::linear(h, weights[l], biases[l]);
      if (l + 1 < weights.size()) h = h.relu();
    }
    auto loss = -h.log_softmax(1).gather(1, y.unsqueeze(1)).mean();
    loss.backward();
    {
      torch::NoGradGuard no_grad;
      for (auto& p : params) {
        p.sub_(p.grad(), lr);
        p.mutable_grad().reset();
      }
    }
    return read_loss ? loss.item<double>() : NAN;
  }
};

void write_json(const std::string& path, const Harness& h, int threads,
                const std::map<std::string, std::vector<double>>& checks) {
  std::ofstream f(path);
  auto arr = [&](const std::vector<double>& v) {
    f << "[";
    for (size_t k = 0; k < v.size(); ++k) f << (k ? ", " : "") << v[k];
    f << "]";
  };
  f.precision(17);
  f << "{\n  \"runtime\": \"libtorch-cpp\",\n  \"torch\": \"" << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR
    << "." << TORCH_VERSION_PATCH << "\",\n  \"threads\": " << threads << ",\n  \"repeats\": " << h.repeats
    << ",\n  \"checks\": {";
  bool first = true;
  for (auto& [k, v] : checks) {
    f << (first ? "\n" : ",\n") << "    \"" << k << "\": ";
    arr(v);
    first = false;
  }
  f << "\n  },\n  \"cases\": [";
  for (size_t k = 0; k < h.results.size(); ++k) {
    auto& r = h.results[k];
    f << (k ? ",\n" : "\n") << "    {\"name\": \"" << r.name << "\", \"group\": \"" << r.group
      << "\", \"description\": \"" << r.description << "\", \"n\": " << r.n << ", \"median_s\": " << median(r.wall)
      << ", \"min_s\": " << *std::min_element(r.wall.begin(), r.wall.end()) << ", \"cpu_median_s\": " << median(r.cpu)
      << ", \"cpu_min_s\": " << *std::min_element(r.cpu.begin(), r.cpu.end()) << ", \"seconds\": ";
    arr(r.wall);
    f << ", \"cpu_seconds\": ";
    arr(r.cpu);
    f << "}";
  }
  f << "\n  ]\n}\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string json;
  Harness h;
  for (int k = 1; k < argc; ++k) {
    std::string a = argv[k];
    if (a == "--threads") at::set_num_threads(std::atoi(argv[++k]));
    else if (a == "--scale") h.scale = std::atof(argv[++k]);
    else if (a == "--repeats") h.repeats = std::atoi(argv[++k]);
    else json = a;
  }
  std::fprintf(stderr, "libtorch C++: %d.%d.%d, %d intra-op thread(s)\n", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR,
               TORCH_VERSION_PATCH, at::get_num_threads());

  std::fprintf(stderr, "per-op (a, b = ones(8), float32, CPU):\n");
  auto a = torch::ones({8}), b = torch::ones({8}), c = torch::ones({8});
  h.measure("add", "op", "at::Tensor z = a + b", kOpN, [&](int n) {
    for (int i = 0; i < n; ++i) { at::Tensor z = a + b; }
  });
  h.measure("add_", "op", "c.add_(b)", kOpN, [&](int n) {
    for (int i = 0; i < n; ++i) c.add_(b);
  });
  h.measure("mul_scalar", "op", "at::Tensor z = a.mul(2.0)", kOpN, [&](int n) {
    for (int i = 0; i < n; ++i) { at::Tensor z = a.mul(2.0); }
  });

  std::map<std::string, std::vector<double>> checks;
  auto step_case = [&](const std::string& name, const std::string& description, std::vector<int64_t> sizes,
                       int64_t batch, int n) {
    Mlp mlp(sizes, batch);
    checks[name] = {mlp.step(true), mlp.step(true), mlp.step(true)};
    h.measure(name, "step", description, n, [&](int k) {
      for (int i = 0; i < k; ++i) mlp.step();
    });
  };
  std::fprintf(stderr, "training step:\n");
  step_case("mlp_small_step", "MLP 32-64-10, batch 64", {32, 64, 10}, 64, kSmallN);
  step_case("mlp_mnist_step", "MLP 784-512-256-10, batch 128", {784, 512, 256, 10}, 128, kMnistN);

  std::fprintf(stderr, "layers under the engine's call, from C++ (interleaved):\n");
  constexpr int kBreakN = 2000, kBreakRepeats = 31;  // as Engine.Bench's breakdown
  auto op = c10::Dispatcher::singleton().findSchemaOrThrow("aten::add", "Tensor");
  auto mul_op = c10::Dispatcher::singleton().findSchemaOrThrow("aten::mul", "Scalar");
  int32_t id = eng_op_find("aten::add", "Tensor");
  eng_arg args[3] = {{ENG_TENSOR, 0, 0, 0.0, a.unsafeGetTensorImpl()},
                     {ENG_TENSOR, 0, 0, 0.0, b.unsafeGetTensorImpl()},
                     {ENG_DOUBLE, 0, 0, 1.0, nullptr}};
  h.measure_interleaved({
      {"cpp_add", "breakdown", "at::Tensor z = a + b (unboxed; interleaved with the rows below)", kBreakN,
       [&](int n) {
         for (int i = 0; i < n; ++i) { at::Tensor z = a + b; }
       }},
      {"cpp_callboxed_add", "breakdown", "OperatorHandle::callBoxed(add.Tensor), reused stack", kBreakN,
       [&](int n) {
         torch::jit::Stack stack;
         for (int i = 0; i < n; ++i) {
           stack.clear();
           stack.emplace_back(a);
           stack.emplace_back(b);
           stack.emplace_back(c10::Scalar(1.0));
           op.callBoxed(&stack);
           stack.clear();
         }
       }},
      {"cpp_shim_op_call", "breakdown", "the shim's eng_op_call(add.Tensor) + eng_tensor_free from C++", kBreakN,
       [&](int n) {
         eng_arg outs[16];
         for (int i = 0; i < n; ++i) {
           if (eng_op_call(id, args, 3, outs, 16) != 1) throw std::runtime_error("eng_op_call failed");
           eng_tensor_free(static_cast<eng_handle>(outs[0].p));
         }
       }},
      {"cpp_mul_scalar", "breakdown", "a.mul(2.0): mul.Scalar", kBreakN,
       [&](int n) {
         for (int i = 0; i < n; ++i) { at::Tensor z = a.mul(2.0); }
       }},
      {"cpp_callboxed_mul_scalar", "breakdown", "OperatorHandle::callBoxed(mul.Scalar), reused stack", kBreakN,
       [&](int n) {
         torch::jit::Stack stack;
         for (int i = 0; i < n; ++i) {
           stack.clear();
           stack.emplace_back(a);
           stack.emplace_back(c10::Scalar(2.0));
           mul_op.callBoxed(&stack);
           stack.clear();
         }
       }},
      {"cpp_mul_wrapped", "breakdown", "a.mul(wrapped 0-d 2.0): mul.Tensor, Python's way", kBreakN,
       [&](int n) {
         for (int i = 0; i < n; ++i) {
           auto w = c10::scalar_to_tensor(2.0);
           w.unsafeGetTensorImpl()->set_wrapped_number(true);
           at::Tensor z = a.mul(w);
         }
       }},
  }, kBreakRepeats);

  if (!json.empty()) {
    write_json(json, h, at::get_num_threads(), checks);
    std::fprintf(stderr, "wrote %s\n", json.c_str());
  }
  return 0;
}
