// The `ewc` regularizer: Elastic Weight Consolidation (Kirkpatrick et al. 2017, "Overcoming
// catastrophic forgetting in neural networks", PNAS 114(13)), with the online variant of Schwarz
// et al. 2018 ("Progress & compress", ICML).
//
// At the end of each task: the diagonal empirical Fisher F_i = mean over `samples` training
// samples of (d log p(y|x) / d theta_i)^2, from per-sample gradients (forward and backward with
// batch 1, the model in eval mode, the true label y), and the parameters theta* at that point.
// While training later tasks, on_backward adds (lambda/2) sum_i F_i (theta_i - theta*_i)^2 and its
// gradient lambda F (theta - theta*):
//   separate: one such term per past task;
//   online:   one term, F <- gamma F + F_new, theta* the latest parameters.
// Masked-out entries (random_chains) carry no penalty and no gradient. The Fisher and anchors are
// saved with the checkpoint (Plugin::save/load), so a resumed run continues identically.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "ablate/nn.hpp"
#include "ablate/regularizer.hpp"
#include "ablate/state.hpp"

namespace {

using namespace ablate;

/// What one consolidation keeps: per parameter, the Fisher diagonal and the values theta*.
struct Anchor {
  std::vector<Matrix> fisher, star;
};

class Ewc final : public Regularizer {
 public:
  explicit Ewc(const Params& p)
      : lambda_(p.real("lambda")),
        online_(p.string("mode") == "online"),
        gamma_(p.real("gamma")),
        samples_(p.integer("samples")) {}

  void end_task(GradientModel& model, const Task& task, Rng& rng) override {
    const std::vector<Parameter*> params = bind(model);
    const auto n = static_cast<std::int64_t>(task.train.size());
    if (n == 0) throw Error("ewc: task '" + task.name + "' has no training samples to measure");
    const std::int64_t m = samples_ == 0 ? n : std::min(samples_, n);
    // The measured samples: a uniform subset (partial Fisher-Yates), in draw order.
    std::vector<std::uint32_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0u);
    for (std::int64_t i = 0; i < m; ++i)
      std::swap(order[static_cast<std::size_t>(i)],
                order[static_cast<std::size_t>(i) + rng.below(static_cast<std::uint64_t>(n - i))]);

    Anchor fresh;
    for (const Parameter* p : params) {
      fresh.fisher.push_back(Matrix::Zero(p->value.rows(), p->value.cols()));
      fresh.star.push_back(p->value);
    }
    model.set_trainable(UnitSelection::everything());
    Matrix x(1, task.train.x.cols());
    Matrix probs(1, 1), dlogits(1, 1);
    for (std::int64_t i = 0; i < m; ++i) {
      const std::uint32_t row = order[static_cast<std::size_t>(i)];
      x.row(0) = task.train.x.row(row);
      model.forward(x, Mode::eval, rng);
      const ConstMatrixRef logits = model.logits();
      probs.resize(1, logits.cols());
      dlogits.resize(1, logits.cols());
      // dlogits = p - onehot(y) = -d log p(y|x) / dlogits; its square is all the Fisher needs.
      nn::softmax_cross_entropy(logits, std::span(&task.train.y[row], 1), probs, dlogits);
      model.backward(dlogits);
      for (std::size_t k = 0; k < params.size(); ++k)
        fresh.fisher[k].array() += params[k]->grad.array().square();
    }
    for (auto& f : fresh.fisher) f /= static_cast<float>(m);

    if (online_ && !anchors_.empty()) {
      Anchor& kept = anchors_.front();
      for (std::size_t k = 0; k < params.size(); ++k) {
        kept.fisher[k] = static_cast<float>(gamma_) * kept.fisher[k] + fresh.fisher[k];
        kept.star[k] = std::move(fresh.star[k]);
      }
    } else {
      anchors_.push_back(std::move(fresh));
    }
  }

  double on_backward(GradientModel& model) override {
    if (anchors_.empty()) return 0.0;
    if (params_.empty()) bind(model);
    const auto lambda = static_cast<float>(lambda_);
    double penalty = 0;
    for (const Anchor& anchor : anchors_) {
      for (std::size_t k = 0; k < params_.size(); ++k) {
        Parameter& p = *params_[k];
        const auto diff = p.value.array() - anchor.star[k].array();
        if (p.has_mask()) {
          const auto weighted = anchor.fisher[k].array() * p.mask.array();
          p.grad.array() += lambda * weighted * diff;
          penalty += 0.5 * lambda_ * (weighted * diff.square()).cast<double>().sum();
        } else {
          p.grad.array() += lambda * anchor.fisher[k].array() * diff;
          penalty +=
              0.5 * lambda_ * (anchor.fisher[k].array() * diff.square()).cast<double>().sum();
        }
      }
    }
    return penalty;
  }

  void save(StateStore& out, const std::string& prefix) const override {
    out.put(prefix + "anchors",
            std::vector<std::int64_t>{static_cast<std::int64_t>(anchors_.size())});
    std::string names;
    for (const auto& name : names_) names += name + "\n";
    out.put_text(prefix + "parameters", names);
    for (std::size_t a = 0; a < anchors_.size(); ++a)
      for (std::size_t k = 0; k < names_.size(); ++k) {
        const std::string key = std::to_string(a) + "/" + names_[k];
        out.put(prefix + "fisher" + key, anchors_[a].fisher[k]);
        out.put(prefix + "star" + key, anchors_[a].star[k]);
      }
  }

  void load(const StateStore& in, const std::string& prefix) override {
    anchors_.clear();
    names_.clear();
    params_.clear();  // bound again to the (reloaded) model at the next step
    const auto count = in.integers(prefix + "anchors").at(0);
    const std::string names = in.text(prefix + "parameters");
    for (std::size_t from = 0, to; (to = names.find('\n', from)) != std::string::npos;
         from = to + 1)
      names_.push_back(names.substr(from, to - from));
    for (std::int64_t a = 0; a < count; ++a) {
      Anchor anchor;
      for (const auto& name : names_) {
        const std::string key = std::to_string(a) + "/" + name;
        anchor.fisher.push_back(in.matrix(prefix + "fisher" + key));
        anchor.star.push_back(in.matrix(prefix + "star" + key));
      }
      anchors_.push_back(std::move(anchor));
    }
  }

 private:
  /// The model's parameters, checked against those of earlier consolidations (names, shapes).
  std::vector<Parameter*> bind(GradientModel& model) {
    std::vector<Parameter*> params = model.parameters();
    std::vector<std::string> names;
    for (const Parameter* p : params) names.push_back(p->name);
    if (!names_.empty() && names != names_)
      throw Error("ewc: the model's parameters are not those it consolidated (" +
                  std::to_string(names.size()) + " now, " + std::to_string(names_.size()) +
                  " before); EWC needs a topology whose parameter list stays fixed");
    for (const Anchor& anchor : anchors_)
      for (std::size_t k = 0; k < params.size(); ++k)
        if (anchor.star[k].rows() != params[k]->value.rows() ||
            anchor.star[k].cols() != params[k]->value.cols())
          throw Error("ewc: parameter '" + names[k] + "' changed shape since it was consolidated");
    names_ = std::move(names);
    params_ = params;
    return params;
  }

  double lambda_;
  bool online_;
  double gamma_;
  std::int64_t samples_;
  std::vector<Anchor> anchors_;  // separate: one per past task; online: one
  std::vector<std::string> names_;
  std::vector<Parameter*> params_;  // bound at the first step after a consolidation or load
};

PluginInfo info() {
  return PluginInfo{
      kAbiVersion,
      Kind::regularizer,
      "ewc",
      "1.0",
      "elastic weight consolidation: a Fisher-weighted pull towards each past task's parameters",
      {real("lambda", 100.0, 0.0, 1e9,
            "strength of the penalty (lambda/2) sum F (theta - theta*)^2"),
       choice("mode", "separate", {"separate", "online"},
              "separate: a term per past task; online: one term, F <- gamma F + F_new"),
       real("gamma", 1.0, 0.0, 1.0, "online mode: decay of the earlier Fisher"),
       integer("samples", 200, 0, kInf,
               "training samples of a task the Fisher is measured on (0: all)")}};
}

std::unique_ptr<Plugin> create(const Params& params) { return std::make_unique<Ewc>(params); }

}  // namespace

ABLATE_PLUGIN(info, create)
