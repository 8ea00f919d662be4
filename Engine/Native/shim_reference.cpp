// libtorch's own C++ implementations, exposed only as parity oracles for the engine's tests:
// the engine's optimizers are checked step by step against torch::optim from the same weights.
#include "shim.h"

#include <torch/optim.h>

namespace {

enum RefOptim : int32_t { REF_SGD = 0, REF_ADAM = 1, REF_ADAMW = 2, REF_RMSPROP = 3, REF_ADAGRAD = 4, REF_LBFGS = 5 };

std::vector<at::Tensor> params_of(const eng_handle* ps, int32_t n) {
  std::vector<at::Tensor> v;
  for (int32_t k = 0; k < n; ++k) v.push_back(eng::borrow(ps[k]));
  return v;
}

double at_or(const double* h, int32_t n, int32_t i, double fallback) { return i < n ? h[i] : fallback; }

}  // namespace

// Creates torch::optim::<kind> over the parameters. Hyperparameters, in order:
//   SGD:     lr, momentum, dampening, weight_decay, nesterov
//   Adam(W): lr, beta1, beta2, eps, weight_decay, amsgrad
//   RMSprop: lr, alpha, eps, weight_decay, momentum, centered
//   Adagrad: lr, lr_decay, weight_decay, initial_accumulator_value, eps
//   LBFGS:   lr, max_iter, max_eval (<=0: default), tolerance_grad, tolerance_change, history_size, strong_wolfe
ENG_EXPORT torch::optim::Optimizer* eng_ref_optim_new(int32_t kind, const eng_handle* ps, int32_t n,
                                                      const double* h, int32_t nh) {
  ENG_GUARD(nullptr, {
    auto params = params_of(ps, n);
    switch (kind) {
      case REF_SGD:
        return new torch::optim::SGD(params, torch::optim::SGDOptions(h[0])
                                                 .momentum(at_or(h, nh, 1, 0))
                                                 .dampening(at_or(h, nh, 2, 0))
                                                 .weight_decay(at_or(h, nh, 3, 0))
                                                 .nesterov(at_or(h, nh, 4, 0) != 0));
      case REF_ADAM:
        return new torch::optim::Adam(params, torch::optim::AdamOptions(h[0])
                                                  .betas({at_or(h, nh, 1, 0.9), at_or(h, nh, 2, 0.999)})
                                                  .eps(at_or(h, nh, 3, 1e-8))
                                                  .weight_decay(at_or(h, nh, 4, 0))
                                                  .amsgrad(at_or(h, nh, 5, 0) != 0));
      case REF_ADAMW:
        return new torch::optim::AdamW(params, torch::optim::AdamWOptions(h[0])
                                                   .betas({at_or(h, nh, 1, 0.9), at_or(h, nh, 2, 0.999)})
                                                   .eps(at_or(h, nh, 3, 1e-8))
                                                   .weight_decay(at_or(h, nh, 4, 1e-2))
                                                   .amsgrad(at_or(h, nh, 5, 0) != 0));
      case REF_RMSPROP:
        return new torch::optim::RMSprop(params, torch::optim::RMSpropOptions(h[0])
                                                     .alpha(at_or(h, nh, 1, 0.99))
                                                     .eps(at_or(h, nh, 2, 1e-8))
                                                     .weight_decay(at_or(h, nh, 3, 0))
                                                     .momentum(at_or(h, nh, 4, 0))
                                                     .centered(at_or(h, nh, 5, 0) != 0));
      case REF_ADAGRAD:
        return new torch::optim::Adagrad(params, torch::optim::AdagradOptions(h[0])
                                                     .lr_decay(at_or(h, nh, 1, 0))
                                                     .weight_decay(at_or(h, nh, 2, 0))
                                                     .initial_accumulator_value(at_or(h, nh, 3, 0))
                                                     .eps(at_or(h, nh, 4, 1e-10)));
      case REF_LBFGS: {
        auto o = torch::optim::LBFGSOptions(h[0])
                     .max_iter(static_cast<int64_t>(at_or(h, nh, 1, 20)))
                     .tolerance_grad(at_or(h, nh, 3, 1e-7))
                     .tolerance_change(at_or(h, nh, 4, 1e-9))
                     .history_size(static_cast<int64_t>(at_or(h, nh, 5, 100)));
        if (at_or(h, nh, 2, 0) > 0) o.max_eval(static_cast<int64_t>(h[2]));
        if (at_or(h, nh, 6, 0) != 0) o.line_search_fn("strong_wolfe");
        return new torch::optim::LBFGS(params, o);
      }
      default:
        throw std::invalid_argument("unknown reference optimizer " + std::to_string(kind));
    }
  })
}

// One step. closure (may be null) re-evaluates the loss: it zeroes grads, runs forward and
// backward, and returns a new handle to the loss (LBFGS calls it several times).
ENG_EXPORT int32_t eng_ref_optim_step(torch::optim::Optimizer* opt, eng_handle (*closure)()) {
  ENG_GUARD(-1, {
    if (closure) {
      opt->step([closure]() -> at::Tensor {
        eng_handle h = closure();
        if (!h) throw std::runtime_error("the closure failed: " + std::string(eng_last_error()));
        auto t = eng::borrow(h);
        eng_tensor_free(h);
        return t;
      });
    } else {
      opt->step();
    }
    return 0;
  })
}

ENG_EXPORT void eng_ref_optim_free(torch::optim::Optimizer* opt) { delete opt; }
