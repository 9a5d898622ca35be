// The `router` topology: the classes are partitioned into groups; a router network picks a group
// and one specialist MLP per group picks the class within it. The seeds' experiment 13b
// (/work/shared/seeds/003): strategies A (simple router), B (mixed), C (two-phase) and D (deep
// router, two-phase), with routing, oracle and final accuracy.
//
// Training maximises the exact two-level likelihood log p(c|x) = log P(g(c)|x) + log p(c|g(c),x)
// (a hierarchical softmax, Morin & Bengio 2005): logits() holds these log-probabilities, so the
// host's softmax cross-entropy is the negative log-likelihood, the router learns the groups and
// each specialist the classes of its group (the gradient of a specialist is zero on rows of
// other groups). Inference routes hard: the router's top group, then that specialist's top class
// (predict()); a row routed to a wrong group is therefore always misclassified, which makes
// oracle accuracy (routed by the true group) >= final accuracy.
//
// Training modes: joint (everything from the first epoch); two_phase (specialists alone for
// `phase_epochs` epochs, router frozen; then the router alone, specialists frozen and in eval
// mode); mixed (specialists alone for `phase_epochs`, then everything together).
// Groups: `contiguous` (`group_count` runs of consecutive classes), `given` (`group_lists`, one
// string of class indices per group) or `fashion-superclasses`, Fashion-MNIST's labels as
// tops {0 T-shirt/top, 2 Pullover, 4 Coat, 6 Shirt}, footwear {5 Sandal, 7 Sneaker, 9 Ankle boot}
// and other {1 Trouser, 3 Dress, 8 Bag}.
// Units: the router's layers ("router.layerK", its outputs fire on the chosen group), each
// specialist's ("specialist2.layerK"), then "output" (a class fires where hard routing predicts
// it). The "gate" distribution is the router's softmax over groups.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "../common/model_parts.hpp"
#include "ablate/nn.hpp"
#include "ablate/topology.hpp"

namespace {

using namespace ablate;
using topologies::LayerBlock;

enum class Training { joint, two_phase, mixed };

struct RouterConfig {
  std::string grouping;
  int group_count = 3;
  std::vector<std::string> group_lists;
  int router_depth = 1;
  int router_width = 128;
  std::vector<int> specialist_hidden;
  nn::Activation activation = nn::Activation::relu;
  double dropout = 0;
  Training training = Training::joint;
  int phase_epochs = 5;
};

/// Each group's classes, in ascending order; every class in exactly one group.
std::vector<std::vector<int>> make_groups(const RouterConfig& config, int classes) {
  std::vector<std::vector<int>> groups;
  if (config.grouping == "contiguous") {
    const int g = config.group_count;
    if (g > classes)
      throw Error("router: group_count = " + std::to_string(g) + " but the data has " +
                  std::to_string(classes) + " classes; use 2 to " + std::to_string(classes));
    for (int k = 0; k < g; ++k) {
      groups.emplace_back();
      for (int c = k * classes / g; c < (k + 1) * classes / g; ++c) groups.back().push_back(c);
    }
  } else if (config.grouping == "fashion-superclasses") {
    if (classes != 10)
      throw Error(
          "router: groups = \"fashion-superclasses\" is Fashion-MNIST's 10 classes; the "
          "data has " +
          std::to_string(classes) + "; use groups = \"contiguous\" or \"given\"");
    groups = {{0, 2, 4, 6}, {5, 7, 9}, {1, 3, 8}};
  } else {
    if (config.group_lists.size() < 2)
      throw Error(
          "router: groups = \"given\" needs group_lists with at least 2 groups, as "
          "[\"0 2 4\", \"1 3\", \"5 6 7 8 9\"]");
    for (const auto& text : config.group_lists)
      groups.push_back(topologies::parse_indices(text, "router.group_lists"));
  }
  std::vector<int> seen(static_cast<std::size_t>(classes), 0);
  for (auto& group : groups) {
    if (group.empty())
      throw Error("router: a group has no classes; every group needs at least one");
    std::sort(group.begin(), group.end());
    for (int c : group) {
      if (c >= classes)
        throw Error("router: class " + std::to_string(c) +
                    " is in a group but the data has "
                    "classes 0.." +
                    std::to_string(classes - 1));
      if (seen[static_cast<std::size_t>(c)]++)
        throw Error("router: class " + std::to_string(c) +
                    " is in two groups; each class must be in exactly one");
    }
  }
  for (int c = 0; c < classes; ++c)
    if (!seen[static_cast<std::size_t>(c)])
      throw Error("router: class " + std::to_string(c) +
                  " is in no group; each class must be in exactly one");
  return groups;
}

class RouterModel final : public GradientModel {
 public:
  RouterModel(const RouterConfig& config, const DataShape& shape, Rng& rng)
      : config_(config),
        classes_(shape.classes),
        groups_(make_groups(config, shape.classes)),
        router_(topologies::mlp_options(
                    shape.features,
                    std::vector<int>(static_cast<std::size_t>(config.router_depth - 1),
                                     config.router_width),
                    static_cast<int>(groups_.size()), config.activation, config.dropout, "router."),
                rng) {
    const int g = static_cast<int>(groups_.size());
    group_of_.assign(static_cast<std::size_t>(classes_), 0);
    slot_of_.assign(static_cast<std::size_t>(classes_), 0);
    for (int k = 0; k < g; ++k)
      for (std::size_t s = 0; s < groups_[static_cast<std::size_t>(k)].size(); ++s) {
        const auto c = static_cast<std::size_t>(groups_[static_cast<std::size_t>(k)][s]);
        group_of_[c] = k;
        slot_of_[c] = static_cast<int>(s);
      }
    blocks_.push_back({0, config.router_depth});
    specialists_.reserve(static_cast<std::size_t>(g));  // parameters() points into these
    int first = config.router_depth;
    for (int k = 0; k < g; ++k) {
      specialists_.emplace_back(
          topologies::mlp_options(shape.features, config.specialist_hidden,
                                  static_cast<int>(groups_[static_cast<std::size_t>(k)].size()),
                                  config.activation, config.dropout,
                                  "specialist" + std::to_string(k) + "."),
          rng);
      const int depth = static_cast<int>(config.specialist_hidden.size()) + 1;
      blocks_.push_back({first, depth});
      first += depth;
    }
    output_layer_ = first;
    spec_logp_.resize(static_cast<std::size_t>(g));
    spec_probs_.resize(static_cast<std::size_t>(g));
    dspec_.resize(static_cast<std::size_t>(g));
    reserve(1);
  }

  std::vector<UnitLayer> unit_layers() const override {
    std::vector<UnitLayer> out = router_.unit_layers(0);
    std::vector<int> output_inputs{config_.router_depth - 1};
    for (std::size_t k = 0; k < specialists_.size(); ++k) {
      const LayerBlock& block = blocks_[k + 1];
      for (auto& layer : specialists_[k].unit_layers(block.first)) out.push_back(std::move(layer));
      output_inputs.push_back(block.first + block.count - 1);
    }
    out.push_back({"output", classes_, std::move(output_inputs)});
    return out;
  }

  void reserve(int max_batch) override {
    router_.reserve(max_batch);
    for (auto& s : specialists_) s.reserve(max_batch);
    reserved_ = max_batch;
    const int g = static_cast<int>(groups_.size());
    router_logp_.setZero(max_batch, g);
    router_probs_.setZero(max_batch, g);
    gate_grad_.setZero(max_batch, g);
    drouter_.setZero(max_batch, g);
    group_dsum_.setZero(max_batch, g);
    logits_.setZero(max_batch, classes_);
    for (std::size_t k = 0; k < groups_.size(); ++k) {
      const auto size = static_cast<Eigen::Index>(groups_[k].size());
      spec_logp_[k].setZero(max_batch, size);
      spec_probs_[k].setZero(max_batch, size);
      dspec_[k].setZero(max_batch, size);
    }
  }

  std::vector<Parameter*> parameters() override {
    std::vector<Parameter*> out = router_.parameters();
    for (auto& s : specialists_) {
      auto params = s.parameters();
      out.insert(out.end(), params.begin(), params.end());
    }
    return out;
  }

  void forward(const ConstMatrixRef& x, Mode mode, Rng& rng) override {
    const int n = static_cast<int>(x.rows());
    if (n > reserved_) reserve(n);
    rows_ = n;
    // A frozen part runs in eval mode (no dropout): it is only read.
    router_.forward(x, router_trains() ? mode : Mode::eval, rng);
    topologies::log_softmax(router_.output(), router_logp_.topRows(n), router_probs_.topRows(n));
    for (std::size_t k = 0; k < specialists_.size(); ++k) {
      specialists_[k].forward(x, specialists_train() ? mode : Mode::eval, rng);
      topologies::log_softmax(specialists_[k].output(), spec_logp_[k].topRows(n),
                              spec_probs_[k].topRows(n));
    }
    for (int c = 0; c < classes_; ++c) {
      const auto k = static_cast<std::size_t>(group_of_[static_cast<std::size_t>(c)]);
      logits_.topRows(n).col(c) =
          router_logp_.topRows(n).col(static_cast<Eigen::Index>(k)) +
          spec_logp_[k].topRows(n).col(slot_of_[static_cast<std::size_t>(c)]);
    }
    gate_grad_.topRows(n).setZero();
    input_.keep(x);
  }

  ConstMatrixRef logits() const override { return logits_.topRows(rows_); }

  void backward(const ConstMatrixRef& dlogits) override {
    const ConstMatrixRef& x = input_.for_backward("router", dlogits.rows());
    const int n = rows_;
    auto dsum = group_dsum_.topRows(n);
    for (std::size_t k = 0; k < specialists_.size(); ++k) {
      const auto& members = groups_[k];
      auto ds = dspec_[k].topRows(n);
      for (std::size_t s = 0; s < members.size(); ++s)
        ds.col(static_cast<Eigen::Index>(s)) = dlogits.col(members[s]);
      dsum.col(static_cast<Eigen::Index>(k)) = ds.rowwise().sum();
      if (specialists_train()) {
        // log-softmax backward: ds - q * sum(ds).
        ds -= (spec_probs_[k].topRows(n).array().colwise() *
               dsum.col(static_cast<Eigen::Index>(k)).array())
                  .matrix();
        specialists_[k].backward(x, ds, false);
      } else {
        topologies::zero_grads(specialists_[k]);
      }
    }
    if (router_trains()) {
      auto dr = drouter_.topRows(n);
      dr =
          (dsum.array() - router_probs_.topRows(n).array().colwise() * dsum.rowwise().sum().array())
              .matrix();
      dr += gate_grad_.topRows(n);
      router_.backward(x, dr, false);
    } else {
      topologies::zero_grads(router_);
    }
  }

  /// Hard routing: the router's top group, then that specialist's top class.
  void predict(const ConstMatrixRef& x, std::span<std::int32_t> out) override {
    Rng unused;  // eval mode draws nothing
    forward(x, Mode::eval, unused);
    for (int r = 0; r < rows_; ++r) out[static_cast<std::size_t>(r)] = routed_class(r);
  }

  void accumulate_unit_sums(std::span<std::int64_t> sums) const override {
    std::size_t offset = 0;
    auto block_units = [](const nn::Mlp& mlp) {
      std::size_t units = 0;
      for (const auto& layer : mlp.layers()) units += static_cast<std::size_t>(layer.out());
      return units;
    };
    std::size_t needed = block_units(router_) + static_cast<std::size_t>(classes_);
    for (const auto& s : specialists_) needed += block_units(s);
    if (sums.size() < needed)
      throw Error("router: accumulate_unit_sums needs room for " + std::to_string(needed) +
                  " units, got " + std::to_string(sums.size()));
    router_.accumulate_unit_sums(sums.subspan(offset, block_units(router_)));
    offset += block_units(router_);
    for (const auto& s : specialists_) {
      s.accumulate_unit_sums(sums.subspan(offset, block_units(s)));
      offset += block_units(s);
    }
    for (int r = 0; r < rows_; ++r) {
      const int predicted = routed_class(r);
      for (int c = 0; c < classes_; ++c)
        sums[offset + static_cast<std::size_t>(c)] += c == predicted ? 1 : -1;
    }
  }

  void set_trainable(const UnitSelection& selection) override {
    std::vector<UnitId> output_units;
    auto parts = topologies::split_selection(selection, blocks_, &output_units);
    for (const UnitId& unit : output_units) {
      if (unit.layer != output_layer_ || unit.index < 0 || unit.index >= classes_)
        throw Error("router: unit (" + std::to_string(unit.layer) + ", " +
                    std::to_string(unit.index) + ") does not exist; unit layers are 0.." +
                    std::to_string(output_layer_) + ", the output layer has " +
                    std::to_string(classes_) + " units");
      // An output unit is its class's row in its group's specialist's last layer.
      const auto c = static_cast<std::size_t>(unit.index);
      const auto k = static_cast<std::size_t>(group_of_[c]);
      parts[k + 1].units.push_back({blocks_[k + 1].count - 1, slot_of_[c]});
    }
    router_.set_trainable(parts[0]);
    for (std::size_t k = 0; k < specialists_.size(); ++k)
      specialists_[k].set_trainable(parts[k + 1]);
  }

  std::optional<Distribution> distribution(std::string_view name) override {
    if (name != "gate") return {};
    return Distribution{router_.output(), router_probs_.topRows(rows_), gate_grad_.topRows(rows_)};
  }

  void on_epoch_end(int epoch, Rng& /*rng*/, Figures& out) override {
    out["training_phase"] = phase();  // the phase of the epoch that just ended
    epochs_done_ = epoch;
  }

  void evaluate(const Samples& split, Figures& out) override {
    std::int64_t routed_right = 0, right = 0, oracle_right = 0, right_when_routed_right = 0;
    Rng unused;
    topologies::for_each_batch(split, reserved_, [&](Eigen::Index first, int rows) {
      forward(split.x.middleRows(first, rows), Mode::eval, unused);
      for (int r = 0; r < rows; ++r) {
        const auto label = static_cast<std::size_t>(split.y[static_cast<std::size_t>(first + r)]);
        const int truth = group_of_[label];
        const int routed = topologies::argmax_of(router_.output().row(r));
        const bool correct = routed_class(r) == static_cast<int>(label);
        const auto& specialist = specialists_[static_cast<std::size_t>(truth)];
        const bool oracle_correct =
            topologies::argmax_of(specialist.output().row(r)) == slot_of_[label];
        routed_right += routed == truth;
        right += correct;
        oracle_right += oracle_correct;
        right_when_routed_right += correct && routed == truth;
      }
    });
    const auto n = static_cast<double>(std::max<std::size_t>(1, split.size()));
    const auto routed_wrong = static_cast<std::int64_t>(split.size()) - routed_right;
    out["routing_accuracy"] = routed_right / n;
    out["oracle_accuracy"] = oracle_right / n;
    out["final_accuracy"] = right / n;
    // Rates over an empty set are reported as 0 (no such rows).
    out["accuracy_given_correct_routing"] =
        routed_right ? double(right_when_routed_right) / double(routed_right) : 0.0;
    out["accuracy_given_wrong_routing"] =
        routed_wrong ? double(right - right_when_routed_right) / double(routed_wrong) : 0.0;
  }

  void save(StateStore& out, const std::string& prefix) const override {
    out.put(prefix + "epochs_done", std::vector<std::int64_t>{epochs_done_});
  }
  void load(const StateStore& in, const std::string& prefix) override {
    epochs_done_ = static_cast<int>(in.integers(prefix + "epochs_done").at(0));
  }

 private:
  /// 0: joint training; 1: specialists alone; 2: after phase_epochs.
  int phase() const {
    if (config_.training == Training::joint) return 0;
    return epochs_done_ < config_.phase_epochs ? 1 : 2;
  }
  bool router_trains() const { return phase() != 1; }
  bool specialists_train() const {
    return !(config_.training == Training::two_phase && phase() == 2);
  }

  int routed_class(int row) const {
    const auto k = static_cast<std::size_t>(topologies::argmax_of(router_.output().row(row)));
    return groups_[k][static_cast<std::size_t>(
        topologies::argmax_of(specialists_[k].output().row(row)))];
  }

  RouterConfig config_;
  int classes_;
  std::vector<std::vector<int>> groups_;
  std::vector<int> group_of_, slot_of_;  // per class: its group and its place in the group
  nn::Mlp router_;
  std::vector<nn::Mlp> specialists_;
  std::vector<LayerBlock> blocks_;  // router, then each specialist
  int output_layer_ = 0;
  int epochs_done_ = 0;
  int reserved_ = 0, rows_ = 0;
  topologies::BatchInput input_;
  Matrix router_logp_, router_probs_, gate_grad_, drouter_, group_dsum_, logits_;
  std::vector<Matrix> spec_logp_, spec_probs_, dspec_;
};

class RouterTopology final : public Topology {
 public:
  explicit RouterTopology(const Params& p) {
    config_.grouping = p.string("groups");
    config_.group_count = static_cast<int>(p.integer("group_count"));
    config_.group_lists = p.strings("group_lists");
    config_.router_depth = static_cast<int>(p.integer("router_depth"));
    config_.router_width = static_cast<int>(p.integer("router_width"));
    for (std::int64_t w : p.integers("specialist_hidden"))
      config_.specialist_hidden.push_back(static_cast<int>(w));
    config_.activation = nn::parse_activation(p.string("activation"));
    config_.dropout = p.real("dropout");
    const std::string& training = p.string("training");
    config_.training = training == "joint"       ? Training::joint
                       : training == "two_phase" ? Training::two_phase
                                                 : Training::mixed;
    config_.phase_epochs = static_cast<int>(p.integer("phase_epochs"));
  }

  std::unique_ptr<Model> build(const BuildContext& ctx, Rng& rng) const override {
    if (ctx.data.features < 1 || ctx.data.classes < 2)
      throw Error("the router topology needs data with features and at least 2 classes, got " +
                  std::to_string(ctx.data.features) + " features and " +
                  std::to_string(ctx.data.classes) + " classes");
    return std::make_unique<RouterModel>(config_, ctx.data, rng);
  }

 private:
  RouterConfig config_;
};

PluginInfo info() {
  return PluginInfo{
      kAbiVersion,
      Kind::topology,
      "router",
      "1.0",
      "a router over class groups and one specialist per group, routed hard at inference",
      {choice("groups", "contiguous", {"contiguous", "given", "fashion-superclasses"},
              "how classes form groups: runs of consecutive classes, group_lists, or "
              "Fashion-MNIST's tops / footwear / other"),
       integer("group_count", 3, 2, 1000, "groups when groups = \"contiguous\""),
       texts("group_lists", std::vector<std::string>{},
             "groups when groups = \"given\": one string of class indices each, as \"0 2 4\""),
       integer("router_depth", 1, 1, 8, "layers of the router network (1: linear)"),
       integer("router_width", 128, 1, 1 << 16, "width of the router's hidden layers"),
       integers("specialist_hidden", std::vector<std::int64_t>{128}, 1, 1 << 16,
                "widths of each specialist's hidden layers"),
       choice("activation", "relu", {"relu", "tanh", "gelu"}, "hidden activation of every part"),
       real("dropout", 0.0, 0.0, 0.95, "dropout after hidden layers (training only)"),
       choice("training", "joint", {"joint", "two_phase", "mixed"},
              "joint: all parts from the start; two_phase: specialists, then the router alone "
              "(specialists frozen, eval mode); mixed: specialists, then all together"),
       integer("phase_epochs", 5, 1, kInf,
               "epochs of the specialists-only first phase (two_phase, mixed)")},
      // What evaluate() adds to summary.json.
      {"routing_accuracy", "oracle_accuracy", "final_accuracy", "accuracy_given_correct_routing",
       "accuracy_given_wrong_routing"}};
}

std::unique_ptr<Plugin> create(const Params& params) {
  return std::make_unique<RouterTopology>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
