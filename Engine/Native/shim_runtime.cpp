// Runtime facts and settings: seeds and generators, CUDA, threads.
#include "shim.h"

#include <torch/cuda.h>
#include <torch/version.h>

#define ENG_STR2(x) #x
#define ENG_STR(x) ENG_STR2(x)
#define TORCH_VERSION_STRING ENG_STR(TORCH_VERSION_MAJOR) "." ENG_STR(TORCH_VERSION_MINOR) "." ENG_STR(TORCH_VERSION_PATCH)

ENG_EXPORT int32_t eng_manual_seed(uint64_t seed) {
  ENG_GUARD(-1, {
    torch::manual_seed(seed);  // CPU and, when present, every CUDA device
    return 0;
  })
}

ENG_EXPORT int32_t eng_cuda_manual_seed_all(uint64_t seed) {
  ENG_GUARD(-1, {
    torch::cuda::manual_seed_all(seed);
    return 0;
  })
}

// A new generator for the device (a clone of its default one, then seeded).
ENG_EXPORT at::Generator* eng_generator_new(int32_t device_type, int32_t device_index,
                                            uint64_t seed) {
  ENG_GUARD(nullptr, {
    c10::Device device(static_cast<c10::DeviceType>(device_type),
                       static_cast<c10::DeviceIndex>(device_index));
    auto& base = const_cast<at::Generator&>(at::globalContext().defaultGenerator(device));
    at::Generator gen;
    {
      std::lock_guard<std::mutex> lock(base.mutex());
      gen = base.clone();
    }
    gen.set_current_seed(seed);
    return new at::Generator(std::move(gen));
  })
}

// The default generator of a device (not owned: do not free).
ENG_EXPORT at::Generator* eng_generator_default(int32_t device_type, int32_t device_index) {
  ENG_GUARD(nullptr, {
    c10::Device device(static_cast<c10::DeviceType>(device_type),
                       static_cast<c10::DeviceIndex>(device_index));
    return const_cast<at::Generator*>(&at::globalContext().defaultGenerator(device));
  })
}

ENG_EXPORT void eng_generator_free(at::Generator* g) { delete g; }

ENG_EXPORT int32_t eng_generator_set_seed(at::Generator* g, uint64_t seed) {
  ENG_GUARD(-1, {
    std::lock_guard<std::mutex> lock(g->mutex());
    g->set_current_seed(seed);
    return 0;
  })
}

ENG_EXPORT uint64_t eng_generator_seed(at::Generator* g) { return g->current_seed(); }

ENG_EXPORT int32_t eng_cuda_is_available() { return torch::cuda::is_available() ? 1 : 0; }
ENG_EXPORT int32_t eng_cuda_device_count() { return static_cast<int32_t>(torch::cuda::device_count()); }

ENG_EXPORT int32_t eng_cuda_synchronize(int32_t device_index) {
  ENG_GUARD(-1, {
    torch::cuda::synchronize(device_index);
    return 0;
  })
}

ENG_EXPORT int32_t eng_get_num_threads() { return at::get_num_threads(); }
ENG_EXPORT void eng_set_num_threads(int32_t n) { at::set_num_threads(n); }

// The libtorch version this shim was built against, e.g. "1.13.1".
ENG_EXPORT const char* eng_torch_version() { return TORCH_VERSION_STRING; }
