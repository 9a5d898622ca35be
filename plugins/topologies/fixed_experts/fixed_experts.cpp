// The `fixed_experts` topology: K expert MLPs whose class scores are mixed by a softmax gate over
// the input, logits = sum_i w_i(x) E_i(x).
//
// Mixture of experts: Jacobs et al. 1991, "Adaptive mixtures of local experts". Top-k gating:
// Shazeer et al. 2017, "Outrageously large neural networks"; as in the Switch Transformer the
// weights of the k chosen experts are their gate probabilities, not renormalised (with k = 1 the
// gate still learns from the task loss). Load balancing: Fedus et al. 2021, "Switch
// Transformers" (JMLR 23): alpha * N * sum_i f_i P_i, f_i the share of rows whose chosen experts
// include i (divided by k), P_i the mean gate probability of i, N the active experts; returned by
// auxiliary_loss() and its gradient (through P only) included in backward(). Noisy gating
// (Shazeer et al. 2017): while training, N(0, gate_noise^2) is added to each gate logit before
// the softmax and the top-k choice, so that experts the gate ranks close get rows in turn; the
// noise scale is fixed here (Shazeer et al. learn one per expert). Evaluation is noise-free.
// Per-task gates over shared experts are the seeds' phase 7c plan and `grow` the dynamic arm of
// phase 7b (/work/shared/seeds/000 and 001: 69.80% with 12 fixed experts, 60.61% grown).
//
// Shapes: x n x features; gate logits n x K; each expert n x classes.
// Growing keeps the parameter list fixed: all K experts exist from the start and experts
// [active, K) are left out of the gate (probability 0, no gradient) until they are added, so the
// optimizer's state stays valid. Experts are added in index order.
// Units: "gate" (K units: an expert fires on the rows whose gate selects it; dense mixtures
// select the most probable), each expert's layers ("expert3.layer1", ...), then "output" (a
// class fires where it is the mixture's argmax).
#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "../common/model_parts.hpp"
#include "ablate/nn.hpp"
#include "ablate/topology.hpp"

namespace {

using namespace ablate;
using topologies::LayerBlock;

struct ExpertsConfig {
  int experts = 12;
  std::vector<int> hidden;
  nn::Activation activation = nn::Activation::relu;
  double dropout = 0;
  int top_k = 0;  // 0: a dense mixture of every active expert
  bool task_gates = false;
  bool task_heads = false;
  double balance = 0;  // alpha of the load-balancing loss; 0: off
  double gate_noise = 0;  // std of the noise on the gate logits while training; 0: off
  bool grow = false;
  int grow_start = 1;
  int grow_every = 1;
};

/// Evenness of a usage count: entropy of the shares over log(count), 1 when perfectly even.
double usage_balance(const std::vector<double>& counts, int active) {
  double total = 0;
  for (int i = 0; i < active; ++i) total += counts[static_cast<std::size_t>(i)];
  if (active < 2 || total <= 0) return 1.0;
  double h = 0;
  for (int i = 0; i < active; ++i) {
    const double share = counts[static_cast<std::size_t>(i)] / total;
    if (share > 0) h -= share * std::log(share);
  }
  return h / std::log(static_cast<double>(active));
}

class FixedExperts final : public GradientModel {
 public:
  FixedExperts(const ExpertsConfig& config, const DataShape& shape, int tasks, Rng& rng)
      : config_(config),
        classes_(shape.classes),
        depth_(static_cast<int>(config.hidden.size()) + 1),
        active_(config.grow ? config.grow_start : config.experts) {
    const int gates = config.task_gates ? std::max(1, tasks) : 1;
    gates_.reserve(static_cast<std::size_t>(gates));  // parameters() points into these
    for (int t = 0; t < gates; ++t)
      gates_.emplace_back(gates == 1 ? "gate" : "gate" + std::to_string(t), shape.features,
                          config.experts, nn::Activation::identity, rng);
    experts_.reserve(static_cast<std::size_t>(config.experts));
    for (int i = 0; i < config.experts; ++i) {
      auto options = topologies::mlp_options(shape.features, config.hidden, classes_,
                                             config.activation, config.dropout,
                                             "expert" + std::to_string(i) + ".");
      options.heads = config.task_heads ? std::max(1, tasks) : 1;
      experts_.emplace_back(options, rng);
    }
    blocks_.push_back({0, 1});
    for (int i = 0; i < config.experts; ++i) blocks_.push_back({1 + i * depth_, depth_});
    units_per_expert_ = classes_;
    for (int width : config.hidden) units_per_expert_ += width;
    balance_f_.assign(static_cast<std::size_t>(config.experts), 0.0);
    epoch_chosen_.assign(static_cast<std::size_t>(config.experts), 0.0);
    reserve(1);
  }

  std::vector<UnitLayer> unit_layers() const override {
    std::vector<UnitLayer> out{{"gate", config_.experts, {}}};
    std::vector<int> output_inputs{0};
    for (int i = 0; i < config_.experts; ++i) {
      const int first = 1 + i * depth_;
      for (auto& layer : experts_[static_cast<std::size_t>(i)].unit_layers(first))
        out.push_back(std::move(layer));
      output_inputs.push_back(first + depth_ - 1);
    }
    out.push_back({"output", classes_, std::move(output_inputs)});
    return out;
  }

  void reserve(int max_batch) override {
    for (auto& gate : gates_) gate.reserve(max_batch);
    for (auto& expert : experts_) expert.reserve(max_batch);
    reserved_ = max_batch;
    const int k = config_.experts;
    probs_.setZero(max_batch, k);
    noisy_.setZero(max_batch, k);
    weights_.setZero(max_batch, k);
    selected_.setZero(max_batch, k);
    gate_grad_.setZero(max_batch, k);
    dprobs_.setZero(max_batch, k);
    dgate_.setZero(max_batch, k);
    logits_.setZero(max_batch, classes_);
    dexpert_.setZero(max_batch, classes_);
    top_.assign(static_cast<std::size_t>(max_batch), 0);
  }

  std::vector<Parameter*> parameters() override {
    std::vector<Parameter*> out;
    for (auto& gate : gates_) out.insert(out.end(), {&gate.weight, &gate.bias});
    for (auto& expert : experts_) {
      auto params = expert.parameters();
      out.insert(out.end(), params.begin(), params.end());
    }
    return out;
  }

  void forward(const ConstMatrixRef& x, Mode mode, Rng& rng) override {
    const int n = static_cast<int>(x.rows());
    if (n > reserved_) reserve(n);
    rows_ = n;
    gate_in_use_ = config_.task_gates ? task_ : 0;
    nn::Dense& gate = gates_[static_cast<std::size_t>(gate_in_use_)];
    gate.forward(x);
    const int a = active_;
    if (mode == Mode::train && config_.gate_noise > 0) {
      auto noisy = noisy_.topRows(n).leftCols(a);
      noisy = gate.output().leftCols(a);
      for (int r = 0; r < n; ++r)
        for (int i = 0; i < a; ++i)
          noisy(r, i) += static_cast<float>(config_.gate_noise * rng.normal());
      nn::softmax(noisy, probs_.topRows(n).leftCols(a));
    } else {
      nn::softmax(gate.output().leftCols(a), probs_.topRows(n).leftCols(a));
    }
    probs_.topRows(n).rightCols(config_.experts - a).setZero();
    select(n);
    for (int i = 0; i < a; ++i) experts_[static_cast<std::size_t>(i)].forward(x, mode, rng);
    auto logits = logits_.topRows(n);
    logits.setZero();
    for (int i = 0; i < a; ++i)
      logits.array() += experts_[static_cast<std::size_t>(i)].output().array().colwise() *
                        weights_.topRows(n).col(i).array();
    gate_grad_.topRows(n).setZero();
    auxiliary_ = 0;
    balance_on_ = mode == Mode::train && config_.balance > 0;
    if (balance_on_) {
      for (int i = 0; i < a; ++i) {
        const double f = selected_.topRows(n).col(i).sum() / double(n * per_row_);
        const double p = probs_.topRows(n).col(i).cast<double>().mean();
        balance_f_[static_cast<std::size_t>(i)] = f;
        auxiliary_ += config_.balance * a * f * p;
      }
    }
    if (mode == Mode::train) {
      for (int r = 0; r < n; ++r) {
        epoch_entropy_ += topologies::entropy_of(probs_.row(r).head(a));
        epoch_chosen_[static_cast<std::size_t>(top_[static_cast<std::size_t>(r)])] += 1;
      }
      epoch_rows_ += n;
    }
    input_.keep(x);
  }

  ConstMatrixRef logits() const override { return logits_.topRows(rows_); }

  void backward(const ConstMatrixRef& dlogits) override {
    const ConstMatrixRef& x = input_.for_backward("fixed_experts", dlogits.rows());
    const int n = rows_, a = active_;
    auto dprobs = dprobs_.topRows(n);
    for (int i = 0; i < a; ++i) {
      nn::Mlp& expert = experts_[static_cast<std::size_t>(i)];
      // d logits / d w_i = E_i(x): the gate's share of the gradient, row by row.
      dprobs.col(i) = (dlogits.array() * expert.output().array()).rowwise().sum().matrix();
      dexpert_.topRows(n) =
          (dlogits.array().colwise() * weights_.topRows(n).col(i).array()).matrix();
      expert.backward(x, dexpert_.topRows(n), false);
    }
    for (int i = a; i < config_.experts; ++i)
      topologies::zero_grads(experts_[static_cast<std::size_t>(i)]);
    if (config_.top_k > 0) dprobs.leftCols(a).array() *= selected_.topRows(n).leftCols(a).array();
    if (balance_on_)
      for (int i = 0; i < a; ++i)
        dprobs.col(i).array() +=
            static_cast<float>(config_.balance * a * balance_f_[static_cast<std::size_t>(i)] / n);
    // Softmax backward over the active experts, plus what regularizers added to the gate logits.
    auto dgate = dgate_.topRows(n);
    dgate.setZero();
    for (int r = 0; r < n; ++r) {
      const auto p = probs_.row(r).head(a).array();
      const float mean = (p * dprobs.row(r).head(a).array()).sum();
      dgate.row(r).head(a).array() =
          p * (dprobs.row(r).head(a).array() - mean) + gate_grad_.row(r).head(a).array();
    }
    for (int t = 0; t < static_cast<int>(gates_.size()); ++t) {
      nn::Dense& gate = gates_[static_cast<std::size_t>(t)];
      if (t == gate_in_use_)
        gate.backward(x, dgate, false);
      else
        topologies::zero_grads(gate);
    }
  }

  void accumulate_unit_sums(std::span<std::int64_t> sums) const override {
    const int n = rows_, a = active_, k = config_.experts;
    const std::size_t needed = static_cast<std::size_t>(k + k * units_per_expert_ + classes_);
    if (sums.size() < needed)
      throw Error("fixed_experts: accumulate_unit_sums needs room for " + std::to_string(needed) +
                  " units, got " + std::to_string(sums.size()));
    for (int i = 0; i < k; ++i) {
      const auto chosen = i < a ? static_cast<std::int64_t>(selected_.topRows(n).col(i).sum()) : 0;
      sums[static_cast<std::size_t>(i)] += 2 * chosen - n;
    }
    std::size_t offset = static_cast<std::size_t>(k);
    for (int i = 0; i < k; ++i) {
      auto part = sums.subspan(offset, static_cast<std::size_t>(units_per_expert_));
      if (i < a)
        experts_[static_cast<std::size_t>(i)].accumulate_unit_sums(part);
      else
        for (auto& s : part) s -= n;  // an inactive expert's units never fire
      offset += static_cast<std::size_t>(units_per_expert_);
    }
    for (int r = 0; r < n; ++r) {
      const int best = topologies::argmax_of(logits_.row(r));
      for (int c = 0; c < classes_; ++c)
        sums[offset + static_cast<std::size_t>(c)] += c == best ? 1 : -1;
    }
  }

  void set_trainable(const UnitSelection& selection) override {
    std::vector<UnitId> output_units;
    auto parts = topologies::split_selection(selection, blocks_, &output_units);
    const int output_layer = 1 + config_.experts * depth_;
    for (const UnitId& unit : output_units) {
      if (unit.layer != output_layer || unit.index < 0 || unit.index >= classes_)
        throw Error("fixed_experts: unit (" + std::to_string(unit.layer) + ", " +
                    std::to_string(unit.index) + ") does not exist; unit layers are 0.." +
                    std::to_string(output_layer) + ", the output layer has " +
                    std::to_string(classes_) + " units");
      // An output unit is its class's row in every expert's last layer.
      for (int i = 0; i < config_.experts; ++i)
        parts[static_cast<std::size_t>(1 + i)].units.push_back({depth_ - 1, unit.index});
    }
    std::vector<int> gate_units;
    for (const UnitId& unit : parts[0].units) gate_units.push_back(unit.index);
    for (auto& gate : gates_) {
      if (parts[0].all)
        gate.set_all_trainable();
      else
        gate.set_trainable_units(gate_units);
    }
    for (int i = 0; i < config_.experts; ++i)
      experts_[static_cast<std::size_t>(i)].set_trainable(parts[static_cast<std::size_t>(1 + i)]);
  }

  std::optional<Distribution> distribution(std::string_view name) override {
    if (name != "gate") return {};
    const int n = rows_, a = active_;
    const nn::Dense& gate = gates_[static_cast<std::size_t>(gate_in_use_)];
    return Distribution{gate.output().leftCols(a), probs_.topRows(n).leftCols(a),
                        gate_grad_.topRows(n).leftCols(a)};
  }

  double auxiliary_loss() override { return auxiliary_; }

  void set_task(int task) override {
    if (config_.task_heads)
      for (auto& expert : experts_) expert.select_head(task);
    if (!config_.task_gates) return;
    if (task < 0 || task >= static_cast<int>(gates_.size()))
      throw Error("fixed_experts: task " + std::to_string(task) + " has no gate (built with " +
                  std::to_string(gates_.size()) + " task gates)");
    task_ = task;
  }

  void on_epoch_end(int epoch, Rng& /*rng*/, Figures& out) override {
    out["active_experts"] = active_;
    if (epoch_rows_ > 0) {
      out["train_gate_entropy"] = epoch_entropy_ / static_cast<double>(epoch_rows_);
      out["train_usage_balance"] = usage_balance(epoch_chosen_, active_);
    }
    epoch_entropy_ = 0;
    epoch_rows_ = 0;
    std::fill(epoch_chosen_.begin(), epoch_chosen_.end(), 0.0);
    if (config_.grow && epoch % config_.grow_every == 0 && active_ < config_.experts) ++active_;
  }

  void evaluate(const Samples& split, Figures& out) override {
    std::vector<double> chosen(static_cast<std::size_t>(config_.experts), 0.0);
    double entropy = 0;
    Rng unused;  // eval mode draws nothing
    topologies::for_each_batch(split, reserved_, [&](Eigen::Index first, int rows) {
      forward(split.x.middleRows(first, rows), Mode::eval, unused);
      for (int r = 0; r < rows; ++r) {
        chosen[static_cast<std::size_t>(top_[static_cast<std::size_t>(r)])] += 1;
        entropy += topologies::entropy_of(probs_.row(r).head(active_));
      }
    });
    const double n = std::max<double>(1.0, static_cast<double>(split.size()));
    out["gate_entropy"] = entropy / n;
    out["usage_balance"] = usage_balance(chosen, active_);
    out["active_experts"] = active_;
    int used = 0;
    for (int i = 0; i < config_.experts; ++i) {
      const double share = chosen[static_cast<std::size_t>(i)] / n;
      used += share > 0;
      out["expert_share_" + std::to_string(i)] = share;
    }
    out["experts_used"] = used;
  }

  void save(StateStore& out, const std::string& prefix) const override {
    out.put(prefix + "active_experts", std::vector<std::int64_t>{active_});
  }
  void load(const StateStore& in, const std::string& prefix) override {
    const auto active = in.integers(prefix + "active_experts").at(0);
    if (active < 1 || active > config_.experts)
      throw Error("fixed_experts: the checkpoint has " + std::to_string(active) +
                  " active experts; this model has 1.." + std::to_string(config_.experts));
    active_ = static_cast<int>(active);
  }

 private:
  /// Each row's chosen experts (the top_k most probable among the active, ties to the lower
  /// index; a dense mixture chooses the most probable) and the mixture weights.
  void select(int n) {
    const int a = active_;
    per_row_ = config_.top_k > 0 ? std::min(config_.top_k, a) : 1;
    auto selected = selected_.topRows(n);
    selected.setZero();
    for (int r = 0; r < n; ++r) {
      for (int pick = 0; pick < per_row_; ++pick) {
        int best = -1;
        for (int i = 0; i < a; ++i)
          if (selected(r, i) == 0 && (best < 0 || probs_(r, i) > probs_(r, best))) best = i;
        selected(r, best) = 1;
        if (pick == 0) top_[static_cast<std::size_t>(r)] = best;
      }
    }
    if (config_.top_k > 0)
      weights_.topRows(n) = (probs_.topRows(n).array() * selected.array()).matrix();
    else
      weights_.topRows(n) = probs_.topRows(n);
  }

  ExpertsConfig config_;
  int classes_, depth_, active_;
  int units_per_expert_ = 0;
  std::vector<nn::Dense> gates_;
  std::vector<nn::Mlp> experts_;
  std::vector<LayerBlock> blocks_;
  int task_ = 0, gate_in_use_ = 0;
  int reserved_ = 0, rows_ = 0, per_row_ = 1;
  topologies::BatchInput input_;
  // Step buffers, reserve()d: n x K for the gate, n x classes for the mixture.
  Matrix probs_, noisy_, weights_, selected_, gate_grad_, dprobs_, dgate_, logits_, dexpert_;
  std::vector<int> top_;  // each row's most probable expert
  bool balance_on_ = false;
  double auxiliary_ = 0;
  std::vector<double> balance_f_;  // f_i of the last forward
  // What the training rows of the current epoch saw (figures at the epoch's end).
  double epoch_entropy_ = 0;
  std::int64_t epoch_rows_ = 0;
  std::vector<double> epoch_chosen_;
};

class FixedExpertsTopology final : public Topology {
 public:
  explicit FixedExpertsTopology(const Params& p) {
    config_.experts = static_cast<int>(p.integer("experts"));
    for (std::int64_t width : p.integers("expert_hidden"))
      config_.hidden.push_back(static_cast<int>(width));
    config_.activation = nn::parse_activation(p.string("activation"));
    config_.dropout = p.real("dropout");
    config_.top_k = static_cast<int>(p.integer("top_k"));
    config_.task_gates = p.boolean("task_gates");
    config_.task_heads = p.boolean("task_heads");
    config_.balance = p.real("balance");
    config_.gate_noise = p.real("gate_noise");
    config_.grow = p.boolean("grow");
    config_.grow_start = static_cast<int>(p.integer("start"));
    config_.grow_every = static_cast<int>(p.integer("grow_every"));
    if (config_.top_k > config_.experts)
      throw Error("fixed_experts: top_k = " + std::to_string(config_.top_k) +
                  " exceeds experts = " + std::to_string(config_.experts) +
                  "; use 0 (a dense mixture) to " + std::to_string(config_.experts));
    if (config_.grow && config_.grow_start > config_.experts)
      throw Error("fixed_experts: start = " + std::to_string(config_.grow_start) +
                  " exceeds experts = " + std::to_string(config_.experts) + "; use 1 to " +
                  std::to_string(config_.experts));
  }

  std::unique_ptr<Model> build(const BuildContext& ctx, Rng& rng) const override {
    if (ctx.data.features < 1 || ctx.data.classes < 2)
      throw Error(
          "the fixed_experts topology needs data with features and at least 2 classes, "
          "got " +
          std::to_string(ctx.data.features) + " features and " + std::to_string(ctx.data.classes) +
          " classes");
    return std::make_unique<FixedExperts>(config_, ctx.data, ctx.tasks, rng);
  }

 private:
  ExpertsConfig config_;
};

PluginInfo info() {
  return PluginInfo{
      kAbiVersion,
      Kind::topology,
      "fixed_experts",
      "1.0",
      "K expert MLPs mixed by a softmax gate (dense or top-k), optional task gates, load "
      "balancing and growth",
      {integer("experts", 12, 1, 256, "K: expert MLPs, all allocated from the start"),
       integers("expert_hidden", std::vector<std::int64_t>{64}, 1, 1 << 16,
                "widths of each expert's hidden layers ([] for linear experts)"),
       choice("activation", "relu", {"relu", "tanh", "gelu"}, "the experts' hidden activation"),
       real("dropout", 0.0, 0.0, 0.95, "dropout after each expert hidden layer (training only)"),
       integer("top_k", 0, 0, 256,
               "experts mixed per row: the k most probable, weighted by their gate probability "
               "(0: every active expert, a dense mixture)"),
       flag("task_gates", false,
            "one gate per task of a sequence over the shared experts (chosen by the task)"),
       flag("task_heads", false,
            "one output layer per task in every expert (multi-head), over shared hidden layers"),
       real("balance", 0.0, 0.0, 100.0,
            "alpha of the Switch load-balancing loss alpha N sum f_i P_i (0: off)"),
       real("gate_noise", 0.0, 0.0, 100.0,
            "std of Gaussian noise on the gate logits while training (noisy top-k gating; 0: "
            "off)"),
       flag("grow", false,
            "start with `start` experts and add one every `grow_every` epochs up to `experts`"),
       integer("start", 1, 1, 256, "active experts at the start when growing"),
       integer("grow_every", 1, 1, kInf, "epochs between two added experts when growing")},
      // What evaluate() adds to summary.json.
      {"gate_entropy", "usage_balance", "active_experts", "experts_used", "expert_share_*"}};
}

std::unique_ptr<Plugin> create(const Params& params) {
  return std::make_unique<FixedExpertsTopology>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
