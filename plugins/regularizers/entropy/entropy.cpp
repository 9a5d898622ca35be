// The `entropy` regularizer: penalty = -beta * H on a distribution, with its analytic gradient
// with respect to the distribution's logits.
//   target = output: the softmax over the class logits; beta > 0 is the confidence penalty of
//     Pereyra et al. 2017 ("Regularizing neural networks by penalizing confident output
//     distributions": loss - beta H(p));
//   target = gate: a gate or router distribution the topology offers (fixed_experts, router);
//     the entropy auxiliary loss of the seeds' phase 7b (/work/shared/seeds/000 and 001).
// The sign of beta chooses the direction: beta > 0 pushes the entropy up, beta < 0 down.
//   over = sample: H is the mean over rows of each row's entropy (confidence of each decision);
//   over = batch: H is the entropy of the batch's mean distribution (how evenly the rows spread
//     over the outcomes: for a gate, the use of the experts).
// Gradients (rows r, outcomes k, n rows, log p from the logits through log-sum-exp):
//   sample: d(-beta H)/dz_rk = beta/n * p_rk (log p_rk + H_r)
//   batch:  d(-beta H)/dz_rk = beta/n * p_rk (log q_k - sum_j p_rj log q_j),  q = mean_r p_r
// Outcomes of probability 0 (logit -inf) contribute nothing.
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "ablate/regularizer.hpp"

namespace {

using namespace ablate;

class Entropy final : public Regularizer {
 public:
  explicit Entropy(const Params& p)
      : gate_(p.string("target") == "gate"),
        batch_(p.string("over") == "batch"),
        beta_(p.real("beta")) {}

  double on_forward(GradientModel& model, const Distribution& output) override {
    if (!gate_) return apply(output);
    const std::optional<Distribution> gate = model.distribution("gate");
    if (!gate)
      throw Error(
          "entropy: target = \"gate\" but the topology offers no gate distribution; use "
          "target = \"output\", or a topology with a gate (fixed_experts, router)");
    return apply(*gate);
  }

 private:
  double apply(const Distribution& d) {
    const auto n = d.logits.rows(), k = d.logits.cols();
    if (n == 0) return 0.0;
    if (log_p_.size() != static_cast<std::size_t>(n * k)) {  // sized once per batch shape
      log_p_.assign(static_cast<std::size_t>(n * k), 0.0);
      p_.assign(static_cast<std::size_t>(n * k), 0.0);
      log_q_.assign(static_cast<std::size_t>(k), 0.0);
    }
    // Probabilities and log-probabilities in double, from the logits.
    for (Eigen::Index r = 0; r < n; ++r) {
      double top = -std::numeric_limits<double>::infinity();
      for (Eigen::Index j = 0; j < k; ++j) top = std::max(top, double(d.logits(r, j)));
      double total = 0;
      for (Eigen::Index j = 0; j < k; ++j) total += std::exp(double(d.logits(r, j)) - top);
      const double log_total = top + std::log(total);
      for (Eigen::Index j = 0; j < k; ++j) {
        const auto at = static_cast<std::size_t>(r * k + j);
        log_p_[at] = double(d.logits(r, j)) - log_total;
        p_[at] = std::exp(log_p_[at]);
      }
    }
    const double scale = beta_ / static_cast<double>(n);
    MatrixRef grad = d.grad_logits;  // the view is const, the values it shows are not
    if (!batch_) {
      double entropy_sum = 0;
      for (Eigen::Index r = 0; r < n; ++r) {
        double h = 0;
        for (Eigen::Index j = 0; j < k; ++j) h -= term(r * k + j);
        entropy_sum += h;
        for (Eigen::Index j = 0; j < k; ++j) {
          const auto at = static_cast<std::size_t>(r * k + j);
          if (p_[at] > 0) grad(r, j) += static_cast<float>(scale * p_[at] * (log_p_[at] + h));
        }
      }
      return -beta_ * entropy_sum / static_cast<double>(n);
    }
    double h = 0;
    for (Eigen::Index j = 0; j < k; ++j) {
      double q = 0;
      for (Eigen::Index r = 0; r < n; ++r) q += p_[static_cast<std::size_t>(r * k + j)];
      q /= static_cast<double>(n);
      log_q_[static_cast<std::size_t>(j)] = q > 0 ? std::log(q) : 0.0;
      if (q > 0) h -= q * std::log(q);
    }
    for (Eigen::Index r = 0; r < n; ++r) {
      double mean_log_q = 0;
      for (Eigen::Index j = 0; j < k; ++j)
        mean_log_q += p_[static_cast<std::size_t>(r * k + j)] * log_q_[static_cast<std::size_t>(j)];
      for (Eigen::Index j = 0; j < k; ++j) {
        const auto at = static_cast<std::size_t>(r * k + j);
        if (p_[at] > 0)
          grad(r, j) += static_cast<float>(scale * p_[at] *
                                           (log_q_[static_cast<std::size_t>(j)] - mean_log_q));
      }
    }
    return -beta_ * h;
  }

  /// p log p of one entry, 0 where p is 0.
  double term(Eigen::Index at) const {
    const auto i = static_cast<std::size_t>(at);
    return p_[i] > 0 ? p_[i] * log_p_[i] : 0.0;
  }

  bool gate_, batch_;
  double beta_;
  std::vector<double> log_p_, p_, log_q_;  // scratch, n x k and k
};

PluginInfo info() {
  return PluginInfo{
      kAbiVersion,
      Kind::regularizer,
      "entropy",
      "1.0",
      "adds -beta * entropy of the output or gate distribution (beta > 0 raises it, < 0 lowers it)",
      {choice("target", "output", {"output", "gate"},
              "the class softmax, or the topology's gate / router distribution"),
       real("beta", 0.1, -100.0, 100.0,
            "weight; the penalty is -beta H, so beta > 0 pushes the entropy up, beta < 0 down"),
       choice("over", "sample", {"sample", "batch"},
              "sample: the mean of each row's entropy; batch: the entropy of the batch's mean "
              "distribution")}};
}

std::unique_ptr<Plugin> create(const Params& params) { return std::make_unique<Entropy>(params); }

}  // namespace

ABLATE_PLUGIN(info, create)
