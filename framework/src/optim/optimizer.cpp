// optim/optimizer.hpp: SGD, Adam and AdamW, and gradient-norm clipping. The per-element update of
// each is one loop over a parameter, specialised at compile time for its options (momentum,
// Nesterov, decay, mask) so the compiler vectorises a branch-free body.
#include "optim/optimizer.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cmath>
#include <span>
#include <utility>

namespace ablate {
namespace {

// ---- SGD ---------------------------------------------------------------------------------

enum SgdBits : unsigned {
  kSgdMomentum = 1, kSgdNesterov = 2, kSgdDecay = 4, kSgdMasked = 8, kSgdFrozen = 16
};

struct SgdArgs {
  float* __restrict value;
  const float* __restrict grad;
  float* __restrict buffer;
  const float* __restrict mask;
  const float* __restrict frozen;  // entries to leave untouched, value and state
  std::size_t size;
  float lr, momentum, decay;
};

/// `keep ? old : updated`, as bit operations: GCC does not if-convert a float select in these
/// loops, and a branch would stop them vectorising.
inline float keep_or(std::uint32_t keep_mask, float old, float updated) {
  return std::bit_cast<float>((std::bit_cast<std::uint32_t>(old) & keep_mask) |
                              (std::bit_cast<std::uint32_t>(updated) & ~keep_mask));
}

template <unsigned Bits>
void sgd_update(const SgdArgs& a) {
  float* __restrict p = a.value;
  const float* __restrict g = a.grad;
  float* __restrict buf = a.buffer;
  const float* __restrict mask = a.mask;
  const float* __restrict frozen = a.frozen;
  for (std::size_t i = 0; i < a.size; ++i) {
    // keep: all ones for a frozen entry (its value and buffer stay as they are), else zero.
    std::uint32_t keep = 0;
    if constexpr ((Bits & kSgdFrozen) != 0)
      keep = 0u - static_cast<std::uint32_t>(frozen[i] != 0.0f);
    float d = g[i];
    if constexpr ((Bits & kSgdDecay) != 0) d += a.decay * p[i];
    if constexpr ((Bits & kSgdMasked) != 0) d *= mask[i];
    if constexpr ((Bits & kSgdMomentum) != 0) {
      // PyTorch starts the buffer at the first gradient: mu * 0 + d is exactly that.
      const float b = a.momentum * buf[i] + d;
      buf[i] = keep_or(keep, buf[i], b);
      if constexpr ((Bits & kSgdNesterov) != 0)
        d += a.momentum * b;
      else
        d = b;
    }
    const float updated = p[i] - a.lr * d;
    p[i] = keep_or(keep, p[i], updated);
  }
}

// ---- Adam / AdamW -------------------------------------------------------------------------

enum AdamBits : unsigned { kAdamL2 = 1, kAdamDecoupled = 2, kAdamMasked = 4, kAdamFrozen = 8 };

struct AdamArgs {
  float* __restrict value;
  const float* __restrict grad;
  float* __restrict exp_avg;
  float* __restrict exp_avg_sq;
  const float* __restrict mask;
  const float* __restrict frozen;  // entries to leave untouched, value and state
  std::size_t size;
  float beta1, beta2, eps, decay;
  float decay_factor;      // AdamW: 1 - lr * decay
  float step_size;         // lr / (1 - beta1^t)
  float correction2_sqrt;  // sqrt(1 - beta2^t)
};

template <unsigned Bits>
void adam_update(const AdamArgs& a) {
  float* __restrict p = a.value;
  const float* __restrict g = a.grad;
  float* __restrict m = a.exp_avg;
  float* __restrict v = a.exp_avg_sq;
  const float* __restrict mask = a.mask;
  const float keep1 = 1.0f - a.beta1, keep2 = 1.0f - a.beta2;
  for (std::size_t i = 0; i < a.size; ++i) {
    if constexpr ((Bits & kAdamFrozen) != 0)
      if (a.frozen[i] != 0.0f) continue;
    float d = g[i];
    if constexpr ((Bits & kAdamDecoupled) != 0) p[i] *= a.decay_factor;
    if constexpr ((Bits & kAdamL2) != 0) d += a.decay * p[i];
    if constexpr ((Bits & kAdamMasked) != 0) d *= mask[i];
    const float mi = a.beta1 * m[i] + keep1 * d;
    const float vi = a.beta2 * v[i] + keep2 * (d * d);
    m[i] = mi;
    v[i] = vi;
    const float denom = std::sqrt(vi) / a.correction2_sqrt + a.eps;
    p[i] -= a.step_size * (mi / denom);
  }
}

// Every combination of option bits, instantiated once: kernels[bits] is its loop.
template <std::size_t... Bits>
constexpr std::array<void (*)(const SgdArgs&), sizeof...(Bits)> sgd_table(
    std::index_sequence<Bits...>) {
  return {&sgd_update<static_cast<unsigned>(Bits)>...};
}
template <std::size_t... Bits>
constexpr std::array<void (*)(const AdamArgs&), sizeof...(Bits)> adam_table(
    std::index_sequence<Bits...>) {
  return {&adam_update<static_cast<unsigned>(Bits)>...};
}
constexpr auto kSgdKernels = sgd_table(std::make_index_sequence<32>{});
constexpr auto kAdamKernels = adam_table(std::make_index_sequence<16>{});

const float* mask_data(const Parameter& p) { return p.has_mask() ? p.mask.data() : nullptr; }
const float* frozen_data(const Parameter& p) { return p.has_frozen() ? p.frozen.data() : nullptr; }

class Sgd final : public Optimizer {
 public:
  Sgd(std::vector<Parameter*> params, float momentum, bool nesterov, float decay)
      : Optimizer(std::move(params), momentum > 0 ? std::vector<std::string>{"momentum_buffer"}
                                                  : std::vector<std::string>{}),
        momentum_(momentum),
        decay_(decay),
        bits_((momentum > 0 ? kSgdMomentum : 0u) | (nesterov ? kSgdNesterov : 0u) |
              (decay != 0 ? kSgdDecay : 0u)) {}

  void step(float lr) override {
    for_each_range([&](std::size_t i, std::size_t begin, std::size_t end) {
      Parameter& p = *params_[i];
      const unsigned bits =
          bits_ | (p.has_mask() ? kSgdMasked : 0u) | (p.has_frozen() ? kSgdFrozen : 0u);
      const bool momentum = (bits & kSgdMomentum) != 0;
      const float* mask = mask_data(p);
      const float* frozen = frozen_data(p);
      kSgdKernels[bits]({p.value.data() + begin, p.grad.data() + begin,
                         momentum ? state(i, 0).data() + begin : nullptr,
                         mask ? mask + begin : nullptr, frozen ? frozen + begin : nullptr,
                         end - begin, lr, momentum_, decay_});
    });
    ++steps_;
  }

 private:
  float momentum_, decay_;
  unsigned bits_;
};

class Adam final : public Optimizer {
 public:
  Adam(std::vector<Parameter*> params, float beta1, float beta2, float eps, float decay,
       bool decoupled)
      : Optimizer(std::move(params), {"exp_avg", "exp_avg_sq"}),
        beta1_(beta1),
        beta2_(beta2),
        eps_(eps),
        decay_(decay),
        bits_(decay != 0 ? (decoupled ? kAdamDecoupled : kAdamL2) : 0u) {}

  void step(float lr) override {
    ++steps_;
    const auto t = static_cast<double>(steps_);
    // Scalars in double, as PyTorch computes them in Python floats.
    const double correction1 = 1.0 - std::pow(static_cast<double>(beta1_), t);
    const double correction2 = 1.0 - std::pow(static_cast<double>(beta2_), t);
    AdamArgs args{};
    args.beta1 = beta1_;
    args.beta2 = beta2_;
    args.eps = eps_;
    args.decay = decay_;
    args.decay_factor = static_cast<float>(1.0 - static_cast<double>(lr) * decay_);
    args.step_size = static_cast<float>(lr / correction1);
    args.correction2_sqrt = static_cast<float>(std::sqrt(correction2));
    for_each_range([&](std::size_t i, std::size_t begin, std::size_t end) {
      Parameter& p = *params_[i];
      AdamArgs range = args;
      const float* mask = mask_data(p);
      range.value = p.value.data() + begin;
      range.grad = p.grad.data() + begin;
      range.exp_avg = state(i, 0).data() + begin;
      range.exp_avg_sq = state(i, 1).data() + begin;
      const float* frozen = frozen_data(p);
      range.mask = mask ? mask + begin : nullptr;
      range.frozen = frozen ? frozen + begin : nullptr;
      range.size = end - begin;
      kAdamKernels[bits_ | (p.has_mask() ? kAdamMasked : 0u) |
                   (p.has_frozen() ? kAdamFrozen : 0u)](range);
    });
  }

 private:
  float beta1_, beta2_, eps_, decay_;
  unsigned bits_;
};

void require(bool ok, const std::string& key, const std::string& what) {
  if (!ok) throw ConfigError("train." + key + " " + what);
}

float in_unit_interval(const Params& train, const std::string& key) {
  const double value = train.real(key);
  require(value >= 0.0 && value < 1.0, key, "must be in [0, 1), got " + std::to_string(value));
  return static_cast<float>(value);
}

float non_negative(const Params& train, const std::string& key) {
  const double value = train.real(key);
  require(value >= 0.0, key, "must be >= 0, got " + std::to_string(value));
  return static_cast<float>(value);
}

}  // namespace

Optimizer::Optimizer(std::vector<Parameter*> params, std::vector<std::string> slots)
    : params_(std::move(params)), slots_(std::move(slots)) {
  state_.reserve(params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const Parameter& p = *params_[i];
    for (std::size_t j = 0; j < i; ++j)
      if (params_[j]->name == p.name)
        throw Error("two parameters are named '" + p.name +
                    "': optimizer state and checkpoints address parameters by name, so names "
                    "must be unique");
    if (p.grad.rows() != p.value.rows() || p.grad.cols() != p.value.cols() ||
        (p.has_mask() && (p.mask.rows() != p.value.rows() || p.mask.cols() != p.value.cols())))
      throw Error("parameter '" + p.name + "': grad and mask must have the value's shape");
    state_.emplace_back(slots_.size(), Matrix::Zero(p.value.rows(), p.value.cols()));
    offsets_.push_back(offsets_.back() + static_cast<std::size_t>(p.value.size()));
  }
}

std::size_t Optimizer::index_of(const Parameter& p) const {
  for (std::size_t i = 0; i < params_.size(); ++i)
    if (params_[i] == &p) return i;
  throw Error("parameter '" + p.name + "' is not one this optimizer updates");
}

void Optimizer::save(StateStore& out, const std::string& prefix) const {
  for (std::size_t i = 0; i < params_.size(); ++i)
    for (std::size_t s = 0; s < slots_.size(); ++s)
      out.put(prefix + params_[i]->name + "." + slots_[s], state_[i][s]);
  const std::int64_t steps = steps_;
  out.put(prefix + "step", std::span<const std::int64_t>(&steps, 1));
}

void Optimizer::load(const StateStore& in, const std::string& prefix) {
  auto need = [&](const std::string& name) {
    if (!in.has(name))
      throw Error("the checkpoint has no optimizer state '" + name +
                  "' (was it written by a different optimizer or model?)");
  };
  for (std::size_t i = 0; i < params_.size(); ++i)
    for (std::size_t s = 0; s < slots_.size(); ++s) {
      const std::string name = prefix + params_[i]->name + "." + slots_[s];
      need(name);
      in.get(name, state_[i][s]);
    }
  need(prefix + "step");
  const auto steps = in.integers(prefix + "step");
  if (steps.size() != 1) throw Error("optimizer state '" + prefix + "step' must hold one integer");
  steps_ = steps[0];
}

void Optimizer::reset(const Parameter& p) {
  const std::size_t i = index_of(p);
  if (!p.has_mask()) return;
  for (Matrix& slot : state_[i]) slot.array() *= p.mask.array();
}

std::unique_ptr<Optimizer> make_optimizer(const Params& train, std::vector<Parameter*> params) {
  const std::string& name = train.string("optimizer");
  if (name == "sgd") {
    const float momentum = non_negative(train, "momentum");
    const bool nesterov = train.boolean("nesterov");
    require(!nesterov || momentum > 0, "nesterov", "needs train.momentum > 0");
    return std::make_unique<Sgd>(std::move(params), momentum, nesterov,
                                 non_negative(train, "weight_decay"));
  }
  if (name == "adam" || name == "adamw") {
    const float eps = non_negative(train, "eps");
    return std::make_unique<Adam>(std::move(params), in_unit_interval(train, "beta1"),
                                  in_unit_interval(train, "beta2"), eps,
                                  non_negative(train, "weight_decay"), name == "adamw");
  }
  throw ConfigError("train.optimizer '" + name + "' is unknown: choose one of sgd, adam, adamw");
}

double clip_grad_norm(std::span<Parameter* const> params, double max_norm) {
  if (max_norm < 0)
    throw ConfigError("train.clip_norm must be >= 0 (0 turns clipping off), got " +
                      std::to_string(max_norm));
  if (max_norm == 0) return 0.0;
  double squares = 0.0;
  for (const Parameter* p : params) squares += static_cast<double>(p->grad.squaredNorm());
  const double norm = std::sqrt(squares);
  const double coefficient = max_norm / (norm + 1e-6);
  if (coefficient < 1.0)
    for (Parameter* p : params) p->grad *= static_cast<float>(coefficient);
  return norm;
}

}  // namespace ablate
