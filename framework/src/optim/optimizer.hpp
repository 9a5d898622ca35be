#pragma once
// Optimizers over named parameters, with PyTorch's update rules (torch.optim 1.13) so that a
// run here and the same run in PyTorch follow the same trajectory up to float rounding:
//   sgd    SGD with momentum (Polyak 1964; the buffer form of Sutskever et al. 2013), optional
//          Nesterov, L2 weight decay added to the gradient; no dampening.
//   adam   Adam (Kingma & Ba 2015) with bias correction; weight decay added to the gradient.
//   adamw  AdamW (Loshchilov & Hutter 2019): decoupled weight decay p <- p (1 - lr wd).
// Each step is one fused pass per parameter (state, decay, mask and update together), and a
// parameter's masked-out entries (mask 0) keep value 0 and state 0. Frozen entries
// (Parameter::frozen, set for the units outside a stage) are skipped, value and state: as
// PyTorch skips a parameter without a gradient, momentum and weight decay leave them alone.
// clip_grad_norm is torch.nn.utils.clip_grad_norm_, applied before a step.
//
// [train] keys read: optimizer (sgd|adam|adamw), lr is passed to step(); momentum, nesterov,
// weight_decay (sgd); beta1, beta2, eps, weight_decay (adam, adamw).
#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "ablate/model.hpp"
#include "ablate/params.hpp"
#include "ablate/state.hpp"
#include "ablate/tensor.hpp"
#include "nn/gemm_threading.hpp"
#include "nn/parallel.hpp"

namespace ablate {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update of every parameter from its current grad. Never allocates.
  virtual void step(float lr) = 0;

  /// State tensors as "<prefix><parameter>.<slot>" (PyTorch's slot names: momentum_buffer,
  /// exp_avg, exp_avg_sq) and the step count as "<prefix>step".
  virtual void save(StateStore& out, const std::string& prefix) const;
  /// The inverse of save(); a missing or misshapen tensor throws ablate::Error.
  virtual void load(const StateStore& in, const std::string& prefix);
  /// After a rewiring changed p's mask: zero the state of the entries whose mask is 0, so a
  /// connection that comes back starts fresh. A parameter this optimizer does not hold throws.
  virtual void reset(const Parameter& p);

  std::int64_t steps_taken() const { return steps_; }
  const std::vector<Parameter*>& parameters() const { return params_; }

 protected:
  /// `slots`: the names of the per-parameter state tensors, each shaped as its parameter.
  Optimizer(std::vector<Parameter*> params, std::vector<std::string> slots);
  /// The state tensor `slot` (index into the slot names) of parameter `index`.
  Matrix& state(std::size_t index, std::size_t slot) { return state_[index][slot]; }

  /// Calls body(parameter index, first element, end element) over every element of every
  /// parameter, split across threads() for large models. Elementwise updates only: the split
  /// never changes a result. Each thread updates what it computed, still in its cache
  /// (nn/parallel.hpp): gemm() cuts a layer's units, so a weight matrix is cut by rows and a
  /// bias (one row) by elements alike; a matrix with too few rows for gemm() to cut (a narrow
  /// output layer) stays whole on part 0, the calling thread, which computes its products.
  template <class Body>
  void for_each_range(const Body& body) {
    const std::size_t parts =
        offsets_.back() < kParallelFrom ? 1 : static_cast<std::size_t>(threads());
    parallel_parts(parts, [&](std::size_t part, std::size_t) {
      for (std::size_t i = 0; i < params_.size(); ++i) {
        const Matrix& value = params_[i]->value;
        const auto rows = static_cast<std::size_t>(value.rows());
        const auto size = static_cast<std::size_t>(value.size());
        Block block{0, part == 0 ? size : 0};
        if (rows >= kMinCutSide * parts) {
          const Block row_block = cut(rows, parts, part);
          const auto row_size = static_cast<std::size_t>(value.cols());
          block = {row_block.begin * row_size, row_block.end * row_size};
        } else if (rows == 1) {
          block = cut(size, parts, part);
        }
        if (block.begin < block.end) body(i, block.begin, block.end);
      }
    });
  }

  std::vector<Parameter*> params_;
  std::int64_t steps_ = 0;

 private:
  static constexpr std::size_t kParallelFrom = 1 << 15;  // elements; fewer stay on one thread
  std::size_t index_of(const Parameter& p) const;
  std::vector<std::string> slots_;
  std::vector<std::size_t> offsets_{0};     // where each parameter starts among all elements
  std::vector<std::vector<Matrix>> state_;  // [parameter][slot]
};

/// The optimizer `train.optimizer` names, over `params` (which must outlive it).
/// Invalid settings (Nesterov without momentum, an unknown name) throw ConfigError.
std::unique_ptr<Optimizer> make_optimizer(const Params& train, std::vector<Parameter*> params);

/// Scales every grad by max_norm / (norm + 1e-6) when that is < 1, norm being the L2 norm of
/// all grads together. Returns the norm before clipping. max_norm == 0 turns clipping off:
/// nothing is read and 0 is returned. A negative max_norm throws ConfigError.
double clip_grad_norm(std::span<Parameter* const> params, double max_norm);

}  // namespace ablate
