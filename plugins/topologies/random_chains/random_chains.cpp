// The `random_chains` topology: an MLP whose connections form a graph in which a connection may
// skip layers, rewired while it trains. The seed (/work/shared/seeds/004) added and removed
// random connections across layers after a warmup (0.3 add / 0.2 remove, 0.8 / 0.4) and found it
// acted as a regularizer on a small network that otherwise overfits.
//
// Layers 0 (the input) .. L+1 (the outputs); a connection from unit i of layer a to unit j of
// layer b > a spans b - a layers. Connections spanning >= min_span (and <= max_span when set)
// are "chains": the ones that are rewired, the edges of the Boost.Graph over all units that this
// model keeps, exports as GraphML and saves in checkpoints. Adjacent layers are nn::Dense layers
// (masked when min_span = 1 or density < 1); a skip a -> b (span >= 2) is a masked weight
// matrix with no bias. A removed connection has mask 0, so its weight stays exactly 0.
//
// Chains appear at the end of epoch `warmup` (`chains` of them, at random; at build when warmup
// is 0). After that, every `interval` epochs a fraction p_remove of the chains is removed and
// p_add times their count is added, by a policy:
//   random  the seed's: remove and add uniformly at random;
//   set     Mocanu et al. 2018 (Nature Communications 9, "Scalable training of artificial neural
//           networks with adaptive sparse connectivity"): remove the smallest magnitudes, add at
//           random;
//   rigl    Evci et al. 2020 (ICML, "Rigging the lottery"): remove the smallest magnitudes, add
//           where the dense gradient is largest, new weights 0; both fractions decayed by
//           0.5 (1 + cos(pi t / decay_epochs)), t the epochs since warmup. The gradient is that of
//           the epoch ending with the change (summed over its minibatches).
// Chains added at random (the first ones under every policy, later ones under random and set)
// start as the target layer's initialisation, uniform in +-1/sqrt(fan-in). A connection removed
// in a change is not added back by the same change. Every change is checked: chains, masks and
// weights must agree (an internal error otherwise).
// Capacity (uses_capacity): a law's value for a unit is its budget of incoming chains; a unit
// over budget loses its smallest-magnitude chains at the next epoch end, and gains none.
#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphml.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <numbers>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "../common/model_parts.hpp"
#include "ablate/nn.hpp"
#include "ablate/topology.hpp"

namespace {

using namespace ablate;

enum class Policy { random, set, rigl };

struct ChainsConfig {
  std::vector<int> hidden;
  nn::Activation activation = nn::Activation::relu;
  int min_span = 2, max_span = 0;  // max_span 0: up to the output
  double density = 1.0;
  int chains = 0;
  int max_chains = 0;  // 0: no cap
  int warmup = 0, interval = 1;
  double p_remove = 0.2, p_add = 0.3;
  Policy policy = Policy::random;
  int decay_epochs = 100;
  std::string graphml_dir;
};

/// A chain: from unit `from_unit` of layer `from` to unit `to_unit` of layer `to`. The order
/// (target layer first) is the canonical order every list of chains is kept in.
struct Chain {
  int to = 0, to_unit = 0, from = 0, from_unit = 0;
  int span() const { return to - from; }
  auto operator<=>(const Chain&) const = default;
};

struct UnitVertex {
  int layer = 0, unit = 0;
};
struct ChainEdge {
  int span = 0;
  double weight = 0;  // filled in for export
};
// setS out-edges: a second edge between two units cannot exist.
using ChainGraph =
    boost::adjacency_list<boost::setS, boost::vecS, boost::bidirectionalS, UnitVertex, ChainEdge>;

/// A layer pair whose connections are chains: the weights and mask holding them.
struct ChainPair {
  int from = 0, to = 0;
  Parameter* weight = nullptr;
  Matrix score;  // rigl: the summed dense gradient of the epoch before a change
};

class RandomChains final : public GradientModel {
 public:
  RandomChains(const ChainsConfig& config, const DataShape& shape, Rng& rng) : config_(config) {
    sizes_.push_back(shape.features);
    sizes_.insert(sizes_.end(), config.hidden.begin(), config.hidden.end());
    sizes_.push_back(shape.classes);
    const int top = output_layer();
    max_span_ = config.max_span > 0 ? std::min(config.max_span, top) : top;
    if (config.min_span > max_span_)
      throw Error("random_chains: min_span = " + std::to_string(config.min_span) +
                  " but the longest possible connection spans " + std::to_string(max_span_) +
                  " layers (" + std::to_string(config.hidden.size()) + " hidden layers, max_span " +
                  std::to_string(config.max_span) + "); use min_span 1 to " +
                  std::to_string(max_span_));
    const bool base_masked = config.min_span == 1 || config.density < 1.0;
    base_.reserve(static_cast<std::size_t>(top));  // parameters() points into these
    for (int b = 1; b <= top; ++b)
      base_.emplace_back("layer" + std::to_string(b), sizes_[b - 1], sizes_[b],
                         nn::Activation::identity, rng, base_masked);
    std::size_t skip_count = 0;
    for (int b = 2; b <= top; ++b)
      for (int a = 0; a + 2 <= b; ++a) skip_count += is_chain_span(b - a);
    skips_.reserve(skip_count);
    for (int b = 1; b <= top; ++b) {
      for (int a = b - 1; a >= 0; --a) {
        const int span = b - a;
        if (span >= 2 && is_chain_span(span)) {
          Parameter p;
          p.name = "skip" + std::to_string(a) + "to" + std::to_string(b) + ".weight";
          p.value = Matrix::Zero(sizes_[b], sizes_[a]);
          p.grad = Matrix::Zero(sizes_[b], sizes_[a]);
          p.mask = Matrix::Zero(sizes_[b], sizes_[a]);
          skips_.push_back(std::move(p));
          skip_of_[{a, b}] = skips_.size() - 1;
        }
      }
    }
    for (int b = 1; b <= top; ++b)
      for (int a = b - 1; a >= 0; --a)
        if (is_chain_span(b - a)) pairs_.push_back({a, b, &weight_of(a, b), Matrix()});
    if (config.policy == Policy::rigl)
      for (auto& pair : pairs_)
        pair.score = Matrix::Zero(pair.weight->value.rows(), pair.weight->value.cols());
    for (int layer = 0; layer <= top; ++layer)
      for (int unit = 0; unit < sizes_[static_cast<std::size_t>(layer)]; ++unit)
        boost::add_vertex(UnitVertex{layer, unit}, graph_);
    budget_.assign(boost::num_vertices(graph_), -1);
    trainable_.resize(static_cast<std::size_t>(top + 1));
    // A sparse start: each adjacent layer keeps a `density` share of its connections.
    if (config.density < 1.0) {
      for (int b = 1; b <= top; ++b) {
        nn::Dense& layer = base_[static_cast<std::size_t>(b - 1)];
        const auto total = static_cast<std::uint64_t>(layer.weight.value.size());
        const auto keep = static_cast<std::uint64_t>(std::llround(config.density * double(total)));
        std::vector<std::uint32_t> order(total);
        for (std::uint64_t i = 0; i < total; ++i) order[i] = static_cast<std::uint32_t>(i);
        for (std::uint64_t i = 0; i < keep; ++i)
          std::swap(order[i], order[i + rng.below(total - i)]);
        layer.weight.mask.setZero();
        for (std::uint64_t i = 0; i < keep; ++i) layer.weight.mask.data()[order[i]] = 1.0f;
        layer.apply_mask();
      }
    }
    if (config.min_span == 1)  // the adjacent connections kept are chains already
      for (int b = 1; b <= top; ++b) {
        const Matrix& mask = base_[static_cast<std::size_t>(b - 1)].weight.mask;
        for (Eigen::Index j = 0; j < mask.rows(); ++j)
          for (Eigen::Index i = 0; i < mask.cols(); ++i)
            if (mask(j, i) != 0) add_edge({b, int(j), b - 1, int(i)});
      }
    if (config.warmup == 0) {
      ChangeCount change;
      add_random(static_cast<std::size_t>(config.chains), {}, rng, change);
      export_graph(0);
    }
    check_structure();
    reserve(1);
  }

  std::vector<UnitLayer> unit_layers() const override {
    std::vector<UnitLayer> out;
    for (int b = 1; b <= output_layer(); ++b) {
      std::set<int> inputs;
      if (b >= 2) inputs.insert(b - 2);
      for (const auto& [pair, index] : skip_of_)
        if (pair.second == b && pair.first >= 1) inputs.insert(pair.first - 1);
      out.push_back({"layer" + std::to_string(b),
                     sizes_[static_cast<std::size_t>(b)],
                     {inputs.begin(), inputs.end()}});
    }
    return out;
  }

  void reserve(int max_batch) override {
    for (auto& layer : base_) layer.reserve(max_batch);
    reserved_ = max_batch;
    hidden_.resize(sizes_.size());
    dhidden_.resize(sizes_.size());
    dpre_.resize(sizes_.size());
    for (int b = 1; b < output_layer(); ++b) {
      const auto width = sizes_[static_cast<std::size_t>(b)];
      hidden_[static_cast<std::size_t>(b)].setZero(max_batch, width);
      dhidden_[static_cast<std::size_t>(b)].setZero(max_batch, width);
      dpre_[static_cast<std::size_t>(b)].setZero(max_batch, width);
    }
  }

  std::vector<Parameter*> parameters() override {
    std::vector<Parameter*> out;
    for (auto& layer : base_) out.insert(out.end(), {&layer.weight, &layer.bias});
    for (auto& skip : skips_) out.push_back(&skip);
    return out;
  }

  void forward(const ConstMatrixRef& x, Mode mode, Rng& /*rng*/) override {
    const int n = static_cast<int>(x.rows());
    if (n > reserved_) reserve(n);
    rows_ = n;
    mode_ = mode;
    for (int b = 1; b <= output_layer(); ++b) {
      nn::Dense& layer = base_[static_cast<std::size_t>(b - 1)];
      layer.forward(activations(x, b - 1));
      MatrixRef pre = layer.output();
      for (int a = b - 2; a >= 0; --a)
        if (const Parameter* skip = skip_weight(a, b))
          gemm(Transpose::no, Transpose::yes, 1.0f, activations(x, a), skip->value, 1.0f, pre);
      if (b < output_layer()) activate(pre, hidden_[static_cast<std::size_t>(b)].topRows(n));
    }
    input_.keep(x);
  }

  ConstMatrixRef logits() const override { return base_.back().output(); }

  void backward(const ConstMatrixRef& dlogits) override {
    const ConstMatrixRef& x = input_.for_backward("random_chains", dlogits.rows());
    const int n = rows_, top = output_layer();
    const bool score = scoring();
    for (int b = 1; b < top; ++b) dhidden_[static_cast<std::size_t>(b)].topRows(n).setZero();
    for (int b = top; b >= 1; --b) {
      // dpre of layer b: complete now, as every layer reading b is above it.
      const auto k = static_cast<std::size_t>(b);
      if (b < top)
        derivative(base_[k - 1].output(), hidden_[k].topRows(n), dhidden_[k].topRows(n),
                   dpre_[k].topRows(n));
      const ConstMatrixRef dpre = b < top ? ConstMatrixRef(dpre_[k].topRows(n)) : dlogits;
      nn::Dense& layer = base_[static_cast<std::size_t>(b - 1)];
      layer.backward(activations(x, b - 1), dpre, b > 1);
      if (b > 1) dhidden_[static_cast<std::size_t>(b - 1)].topRows(n) += layer.input_grad();
      if (score && config_.min_span == 1)
        gemm(Transpose::yes, Transpose::no, 1.0f, dpre, activations(x, b - 1), 1.0f,
             pair_at(b - 1, b).score);
      for (int a = b - 2; a >= 0; --a) {
        Parameter* skip = skip_weight(a, b);
        if (!skip) continue;
        gemm(Transpose::yes, Transpose::no, 1.0f, dpre, activations(x, a), 0.0f, skip->grad);
        if (score) pair_at(a, b).score += skip->grad;
        skip->grad.array() *= skip->mask.array();
        restrict_rows(b, skip->grad);
        if (a >= 1)
          gemm(Transpose::no, Transpose::no, 1.0f, dpre, skip->value, 1.0f,
               dhidden_[static_cast<std::size_t>(a)].topRows(n));
      }
    }
  }

  void accumulate_unit_sums(std::span<std::int64_t> sums) const override {
    std::size_t at = 0;
    for (int b = 1; b <= output_layer(); ++b) {
      const ConstMatrixRef pre = base_[static_cast<std::size_t>(b - 1)].output();
      const int width = sizes_[static_cast<std::size_t>(b)];
      if (sums.size() < at + static_cast<std::size_t>(width))
        throw Error("random_chains: accumulate_unit_sums got room for " +
                    std::to_string(sums.size()) + " units, the model has more");
      for (Eigen::Index r = 0; r < pre.rows(); ++r) {
        const int best = b == output_layer() ? topologies::argmax_of(pre.row(r)) : -1;
        for (int j = 0; j < width; ++j) {
          const bool fires = b == output_layer() ? j == best : pre(r, j) > 0.0f;
          sums[at + static_cast<std::size_t>(j)] += fires ? 1 : -1;
        }
      }
      at += static_cast<std::size_t>(width);
    }
  }

  void set_trainable(const UnitSelection& selection) override {
    for (auto& t : trainable_) t.clear();
    for (auto& skip : skips_) skip.frozen.resize(0, 0);
    if (selection.all) {
      for (auto& layer : base_) layer.set_all_trainable();
      return;
    }
    std::vector<std::vector<int>> per_layer(base_.size());
    for (const UnitId& unit : selection.units) {
      if (unit.layer < 0 || unit.layer >= static_cast<int>(base_.size()))
        throw Error("random_chains: unit layer " + std::to_string(unit.layer) +
                    " does not exist (layers 0.." + std::to_string(base_.size() - 1) + ")");
      per_layer[static_cast<std::size_t>(unit.layer)].push_back(unit.index);
    }
    for (std::size_t k = 0; k < base_.size(); ++k) {
      base_[k].set_trainable_units(per_layer[k]);  // checks the indices
      auto& flags = trainable_[k + 1];
      flags.assign(static_cast<std::size_t>(sizes_[k + 1]), 0);
      for (int unit : per_layer[k]) flags[static_cast<std::size_t>(unit)] = 1;
    }
    // A skip's rows belong to the units it feeds: frozen with them, so the optimizer leaves
    // them alone (momentum and weight decay included).
    for (const auto& [pair, index] : skip_of_) {
      Parameter& skip = skips_[index];
      const auto& flags = trainable_[static_cast<std::size_t>(pair.second)];
      skip.frozen.setZero(skip.value.rows(), skip.value.cols());
      for (std::size_t j = 0; j < flags.size(); ++j)
        if (!flags[j]) skip.frozen.row(static_cast<Eigen::Index>(j)).setOnes();
    }
  }

  bool uses_capacity() const override { return true; }

  void apply_capacity(UnitId unit, double capacity) override {
    const int layer = unit.layer + 1;
    if (layer < 1 || layer > output_layer() || unit.index < 0 ||
        unit.index >= sizes_[static_cast<std::size_t>(layer)])
      throw Error("random_chains: no unit (" + std::to_string(unit.layer) + ", " +
                  std::to_string(unit.index) + ") to give a capacity");
    budget_[vertex(layer, unit.index)] = static_cast<int>(std::max(0.0, std::floor(capacity)));
  }

  void on_epoch_end(int epoch, Rng& rng, Figures& out) override {
    const std::size_t before = boost::num_edges(graph_);
    ChangeCount change;
    const std::size_t pruned = enforce_budgets(change);
    std::set<Chain> removed(change.removed.begin(), change.removed.end());
    if (config_.warmup > 0 && epoch == config_.warmup)
      add_random(static_cast<std::size_t>(config_.chains), removed, rng, change);
    if (rewires_at(epoch)) rewire(epoch, rng, change);
    epochs_done_ = epoch;
    for (auto& pair : pairs_)
      if (pair.score.size()) pair.score.setZero();
    if (!change.removed.empty() || change.added > 0) {
      check_structure();
      export_graph(epoch);
    }
    report(out, change, pruned, before);
  }

  void save(StateStore& out, const std::string& prefix) const override {
    std::vector<std::int64_t> flat;
    for (const Chain& c : chains()) flat.insert(flat.end(), {c.to, c.to_unit, c.from, c.from_unit});
    out.put(prefix + "chains", flat);
    out.put(prefix + "budgets", topologies::to_int64(budget_));
    out.put(prefix + "epochs_done", std::vector<std::int64_t>{epochs_done_});
  }

  void load(const StateStore& in, const std::string& prefix) override {
    const auto flat = in.integers(prefix + "chains");
    const auto budgets = in.integers(prefix + "budgets");
    if (flat.size() % 4 != 0 || budgets.size() != budget_.size())
      throw Error("random_chains: the checkpoint's structure (" + std::to_string(flat.size() / 4) +
                  " chains, " + std::to_string(budgets.size()) +
                  " unit budgets) does not fit "
                  "this model (" +
                  std::to_string(budget_.size()) + " units)");
    // Parameter values and masks come from the host afterwards; only the graph is rebuilt.
    for (const Chain& c : chains())
      boost::remove_edge(vertex(c.from, c.from_unit), vertex(c.to, c.to_unit), graph_);
    for (std::size_t i = 0; i < flat.size(); i += 4) {
      const Chain c{int(flat[i]), int(flat[i + 1]), int(flat[i + 2]), int(flat[i + 3])};
      if (!valid_slot(c))
        throw Error("random_chains: the checkpoint holds a chain this model cannot have (layer " +
                    std::to_string(c.from) + " unit " + std::to_string(c.from_unit) + " to layer " +
                    std::to_string(c.to) + " unit " + std::to_string(c.to_unit) + ")");
      add_edge(c);
    }
    budget_ = topologies::to_int(budgets);
    epochs_done_ = static_cast<int>(in.integers(prefix + "epochs_done").at(0));
  }

 private:
  struct ChangeCount {
    std::vector<Chain> removed;
    int added = 0;
  };

  int output_layer() const { return static_cast<int>(sizes_.size()) - 1; }
  bool is_chain_span(int span) const { return span >= config_.min_span && span <= max_span_; }
  std::size_t vertex(int layer, int unit) const {
    std::size_t v = 0;
    for (int l = 0; l < layer; ++l)
      v += static_cast<std::size_t>(sizes_[static_cast<std::size_t>(l)]);
    return v + static_cast<std::size_t>(unit);
  }

  Parameter* skip_weight(int from, int to) {
    const auto it = skip_of_.find({from, to});
    return it == skip_of_.end() ? nullptr : &skips_[it->second];
  }
  const Parameter* skip_weight(int from, int to) const {
    const auto it = skip_of_.find({from, to});
    return it == skip_of_.end() ? nullptr : &skips_[it->second];
  }
  Parameter& weight_of(int from, int to) {
    if (to - from == 1) return base_[static_cast<std::size_t>(to - 1)].weight;
    return *skip_weight(from, to);
  }
  ChainPair& pair_at(int from, int to) {
    for (auto& pair : pairs_)
      if (pair.from == from && pair.to == to) return pair;
    throw Error("random_chains: no chains from layer " + std::to_string(from) + " to " +
                std::to_string(to));
  }

  /// The input (layer 0) or a hidden layer's activations of the current batch.
  ConstMatrixRef activations(const ConstMatrixRef& x, int layer) const {
    if (layer == 0) return x;
    return hidden_[static_cast<std::size_t>(layer)].topRows(rows_);
  }

  void activate(const ConstMatrixRef& pre, MatrixRef out) const {
    if (config_.activation == nn::Activation::tanh)
      out.array() = pre.array().tanh();
    else
      out.array() = pre.array().max(0.0f);
  }
  void derivative(const ConstMatrixRef& pre, const ConstMatrixRef& act, const ConstMatrixRef& dact,
                  MatrixRef dpre) const {
    if (config_.activation == nn::Activation::tanh)
      dpre.array() = dact.array() * (1.0f - act.array().square());
    else
      dpre.array() = (pre.array() > 0.0f).select(dact.array(), 0.0f);
  }

  /// Zeroes the gradient rows of units a stage does not train (the skips' share of
  /// set_trainable; the dense layers do it themselves).
  void restrict_rows(int layer, Matrix& grad) const {
    const auto& flags = trainable_[static_cast<std::size_t>(layer)];
    if (flags.empty()) return;
    for (std::size_t j = 0; j < flags.size(); ++j)
      if (!flags[j]) grad.row(static_cast<Eigen::Index>(j)).setZero();
  }

  bool rewires_at(int epoch) const {
    return epoch > config_.warmup && (epoch - config_.warmup) % config_.interval == 0;
  }
  /// rigl needs the dense gradient of the epoch that ends with a change.
  bool scoring() const {
    return config_.policy == Policy::rigl && mode_ == Mode::train && rewires_at(epochs_done_ + 1);
  }

  // ---- the chains ------------------------------------------------------------------------

  bool valid_slot(const Chain& c) const {
    return c.to >= 1 && c.to <= output_layer() && c.from >= 0 && is_chain_span(c.span()) &&
           c.to_unit >= 0 && c.to_unit < sizes_[static_cast<std::size_t>(c.to)] &&
           c.from_unit >= 0 && c.from_unit < sizes_[static_cast<std::size_t>(c.from)];
  }
  bool has_chain(const Chain& c) const {
    return boost::edge(vertex(c.from, c.from_unit), vertex(c.to, c.to_unit), graph_).second;
  }
  int incoming(const Chain& c) const {
    return static_cast<int>(boost::in_degree(vertex(c.to, c.to_unit), graph_));
  }
  bool room_for(const Chain& c) const {
    const int budget = budget_[vertex(c.to, c.to_unit)];
    return budget < 0 || incoming(c) < budget;
  }
  void add_edge(const Chain& c) {
    const bool added = boost::add_edge(vertex(c.from, c.from_unit), vertex(c.to, c.to_unit),
                                       ChainEdge{c.span(), 0.0}, graph_)
                           .second;
    if (!added) throw Error("random_chains: internal error, a chain added twice");
  }
  float& value_at(const Chain& c) { return weight_of(c.from, c.to).value(c.to_unit, c.from_unit); }

  void connect(const Chain& c, float value, ChangeCount& change) {
    Parameter& w = weight_of(c.from, c.to);
    w.mask(c.to_unit, c.from_unit) = 1.0f;
    w.value(c.to_unit, c.from_unit) = value;
    add_edge(c);
    ++change.added;
  }
  void disconnect(const Chain& c, ChangeCount& change) {
    Parameter& w = weight_of(c.from, c.to);
    w.mask(c.to_unit, c.from_unit) = 0.0f;
    w.value(c.to_unit, c.from_unit) = 0.0f;
    w.grad(c.to_unit, c.from_unit) = 0.0f;
    boost::remove_edge(vertex(c.from, c.from_unit), vertex(c.to, c.to_unit), graph_);
    change.removed.push_back(c);
  }

  /// Every chain, in the canonical order.
  std::vector<Chain> chains() const {
    std::vector<Chain> out;
    out.reserve(boost::num_edges(graph_));
    for (auto [e, end] = boost::edges(graph_); e != end; ++e) {
      const UnitVertex& from = graph_[boost::source(*e, graph_)];
      const UnitVertex& to = graph_[boost::target(*e, graph_)];
      out.push_back({to.layer, to.unit, from.layer, from.unit});
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  /// The `count` chains of smallest magnitude among `candidates` (ties: canonical order).
  std::vector<Chain> weakest(std::vector<Chain> candidates, std::size_t count) {
    count = std::min(count, candidates.size());
    std::vector<std::pair<float, Chain>> scored;
    scored.reserve(candidates.size());
    for (const Chain& c : candidates) scored.emplace_back(std::abs(value_at(c)), c);
    std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(count),
                      scored.end());
    std::vector<Chain> out;
    for (std::size_t i = 0; i < count; ++i) out.push_back(scored[i].second);
    return out;
  }

  std::size_t enforce_budgets(ChangeCount& change) {
    std::map<std::size_t, std::vector<Chain>> by_target;
    for (const Chain& c : chains()) by_target[vertex(c.to, c.to_unit)].push_back(c);
    std::size_t pruned = 0;
    for (auto& [v, incoming_chains] : by_target) {
      const int budget = budget_[v];
      if (budget < 0 || static_cast<int>(incoming_chains.size()) <= budget) continue;
      const auto excess = incoming_chains.size() - static_cast<std::size_t>(budget);
      for (const Chain& c : weakest(incoming_chains, excess)) disconnect(c, change);
      pruned += excess;
    }
    return pruned;
  }

  /// A new random chain's weight: the target layer's initialisation.
  float initial_value(const Chain& c, Rng& rng) const {
    const double bound = 1.0 / std::sqrt(double(sizes_[static_cast<std::size_t>(c.to - 1)]));
    return static_cast<float>((2.0 * rng.uniform() - 1.0) * bound);
  }

  std::size_t room_under_cap(std::size_t wanted) const {
    if (config_.max_chains <= 0) return wanted;
    const auto now = boost::num_edges(graph_);
    const auto cap = static_cast<std::size_t>(config_.max_chains);
    return now >= cap ? 0 : std::min(wanted, cap - now);
  }

  bool can_add(const Chain& c, const std::set<Chain>& excluded) const {
    return !has_chain(c) && room_for(c) && !excluded.count(c);
  }

  /// Adds up to `count` chains uniformly among the free slots: draws first, then, if the free
  /// slots are few, a shuffled list of all of them.
  void add_random(std::size_t count, const std::set<Chain>& excluded, Rng& rng,
                  ChangeCount& change) {
    count = room_under_cap(count);
    if (count == 0) return;
    std::vector<std::uint64_t> first_slot;
    std::uint64_t total = 0;
    for (const auto& pair : pairs_) {
      first_slot.push_back(total);
      total += static_cast<std::uint64_t>(pair.weight->value.size());
    }
    auto slot_chain = [&](std::uint64_t slot) {
      const auto p = static_cast<std::size_t>(
          std::upper_bound(first_slot.begin(), first_slot.end(), slot) - first_slot.begin() - 1);
      const auto within = static_cast<Eigen::Index>(slot - first_slot[p]);
      const auto cols = pairs_[p].weight->value.cols();
      return Chain{pairs_[p].to, int(within / cols), pairs_[p].from, int(within % cols)};
    };
    std::size_t added = 0;
    for (std::size_t attempt = 0; added < count && attempt < 20 * count + 100; ++attempt) {
      const Chain c = slot_chain(rng.below(total));
      if (!can_add(c, excluded)) continue;
      connect(c, initial_value(c, rng), change);
      ++added;
    }
    if (added == count) return;
    std::vector<std::uint64_t> free;
    for (std::uint64_t slot = 0; slot < total; ++slot)
      if (can_add(slot_chain(slot), excluded)) free.push_back(slot);
    for (std::size_t i = 0; i < free.size() && added < count; ++i) {
      std::swap(free[i], free[i + rng.below(free.size() - i)]);
      const Chain c = slot_chain(free[i]);
      if (!room_for(c)) continue;  // its unit filled up meanwhile
      connect(c, initial_value(c, rng), change);
      ++added;
    }
  }

  /// rigl: the `count` free slots of largest summed gradient magnitude (ties: canonical order).
  void add_by_gradient(std::size_t count, const std::set<Chain>& excluded, ChangeCount& change) {
    count = room_under_cap(count);
    std::vector<std::pair<float, Chain>> scored;
    for (const auto& pair : pairs_) {
      const Matrix& score = pair.score;
      for (Eigen::Index j = 0; j < score.rows(); ++j)
        for (Eigen::Index i = 0; i < score.cols(); ++i) {
          const Chain c{pair.to, int(j), pair.from, int(i)};
          if (can_add(c, excluded)) scored.emplace_back(-std::abs(score(j, i)), c);
        }
    }
    std::sort(scored.begin(), scored.end());
    std::size_t added = 0;
    for (const auto& [negative_score, c] : scored) {
      if (added == count) break;
      if (!room_for(c)) continue;
      connect(c, 0.0f, change);  // RigL grows connections at 0
      ++added;
    }
  }

  void rewire(int epoch, Rng& rng, ChangeCount& change) {
    double fraction = 1.0;
    if (config_.policy == Policy::rigl) {
      const double t = std::min(1.0, double(epoch - config_.warmup) / config_.decay_epochs);
      fraction = 0.5 * (1.0 + std::cos(std::numbers::pi * t));
    }
    std::vector<Chain> existing = chains();
    const double n = static_cast<double>(existing.size());
    const auto remove = static_cast<std::size_t>(std::llround(config_.p_remove * fraction * n));
    const auto add = static_cast<std::size_t>(std::llround(config_.p_add * fraction * n));
    std::vector<Chain> doomed;
    if (config_.policy == Policy::random) {
      for (std::size_t i = 0; i < remove && i < existing.size(); ++i) {
        std::swap(existing[i], existing[i + rng.below(existing.size() - i)]);
        doomed.push_back(existing[i]);
      }
    } else {
      doomed = weakest(existing, remove);
    }
    for (const Chain& c : doomed) disconnect(c, change);
    const std::set<Chain> excluded(change.removed.begin(), change.removed.end());
    if (config_.policy == Policy::rigl)
      add_by_gradient(add, excluded, change);
    else
      add_random(add, excluded, rng, change);
  }

  /// The chains, the masks and the weights agree; no chain outside the allowed spans.
  void check_structure() const {
    std::size_t masked_on = 0;
    for (const auto& pair : pairs_) {
      const Parameter& w = *pair.weight;
      for (Eigen::Index j = 0; j < w.mask.rows(); ++j)
        for (Eigen::Index i = 0; i < w.mask.cols(); ++i) {
          const bool on = w.mask(j, i) != 0.0f;
          masked_on += on;
          if (on != has_chain({pair.to, int(j), pair.from, int(i)}) ||
              (!on && w.value(j, i) != 0.0f))
            throw Error("random_chains: internal error, chains and masks disagree at " + w.name);
        }
    }
    if (masked_on != boost::num_edges(graph_))
      throw Error("random_chains: internal error, a chain without a mask entry");
  }

  void report(Figures& out, const ChangeCount& change, std::size_t pruned,
              std::size_t before) const {
    const std::vector<Chain> all = chains();
    out["chains"] = static_cast<double>(all.size());
    double connections = 0;
    for (const auto& layer : base_)
      connections +=
          layer.weight.has_mask() ? layer.weight.mask.sum() : double(layer.weight.value.size());
    for (const auto& skip : skips_) connections += skip.mask.sum();
    out["connections"] = connections;
    out["chains_added"] = change.added;
    out["chains_removed"] = static_cast<double>(change.removed.size());
    out["chains_pruned_by_budget"] = static_cast<double>(pruned);
    out["churn"] =
        double(change.added + change.removed.size()) / double(std::max<std::size_t>(1, before));
    std::map<int, double> spans;
    double span_sum = 0;
    int span_max = 0;
    for (const Chain& c : all) {
      spans[c.span()] += 1;
      span_sum += c.span();
      span_max = std::max(span_max, c.span());
    }
    out["span_mean"] = all.empty() ? 0.0 : span_sum / double(all.size());
    out["span_max"] = span_max;
    for (int s = config_.min_span; s <= max_span_; ++s)
      out["chains_span_" + std::to_string(s)] = spans.count(s) ? spans.at(s) : 0.0;
  }

  /// The chain graph as GraphML (vertices: layer, unit; edges: span, weight), written under a
  /// temporary name and renamed, into graphml_dir (nothing when it is empty).
  void export_graph(int epoch) {
    if (config_.graphml_dir.empty()) return;
    const std::filesystem::path dir(config_.graphml_dir);
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
      throw Error("random_chains: cannot create graphml_dir '" + dir.string() +
                  "': " + ec.message());
    for (auto [e, end] = boost::edges(graph_); e != end; ++e) {
      const UnitVertex& from = graph_[boost::source(*e, graph_)];
      const UnitVertex& to = graph_[boost::target(*e, graph_)];
      graph_[*e].weight = value_at({to.layer, to.unit, from.layer, from.unit});
    }
    boost::dynamic_properties properties;
    properties.property("layer", boost::get(&UnitVertex::layer, graph_));
    properties.property("unit", boost::get(&UnitVertex::unit, graph_));
    properties.property("span", boost::get(&ChainEdge::span, graph_));
    properties.property("weight", boost::get(&ChainEdge::weight, graph_));
    const auto file = dir / ("chains_epoch_" + std::to_string(epoch) + ".graphml");
    const auto temporary = std::filesystem::path(file.string() + ".tmp");
    {
      std::ofstream out(temporary);
      boost::write_graphml(out, graph_, properties, true);
      if (!out) throw Error("random_chains: cannot write '" + temporary.string() + "'");
    }
    std::filesystem::rename(temporary, file, ec);
    if (ec) throw Error("random_chains: cannot write '" + file.string() + "': " + ec.message());
  }

  ChainsConfig config_;
  std::vector<int> sizes_;  // layer widths, input first
  int max_span_ = 0;
  std::vector<nn::Dense> base_;   // layer b - 1 -> b, for b = 1..L+1
  std::vector<Parameter> skips_;  // a -> b, span >= 2
  std::map<std::pair<int, int>, std::size_t> skip_of_;
  std::vector<ChainPair> pairs_;  // the layer pairs whose connections are chains
  ChainGraph graph_;
  std::vector<int> budget_;  // per vertex: incoming chains allowed (-1: no limit)
  std::vector<std::vector<std::uint8_t>> trainable_;  // per layer; empty: all
  int epochs_done_ = 0;
  int reserved_ = 0, rows_ = 0;
  Mode mode_ = Mode::eval;
  topologies::BatchInput input_;
  std::vector<Matrix> hidden_, dhidden_, dpre_;  // per layer: activations and their gradients
};

class RandomChainsTopology final : public Topology {
 public:
  explicit RandomChainsTopology(const Params& p) {
    for (std::int64_t w : p.integers("hidden")) config_.hidden.push_back(static_cast<int>(w));
    config_.activation = nn::parse_activation(p.string("activation"));
    config_.min_span = static_cast<int>(p.integer("min_span"));
    config_.max_span = static_cast<int>(p.integer("max_span"));
    config_.density = p.real("density");
    config_.chains = static_cast<int>(p.integer("chains"));
    config_.max_chains = static_cast<int>(p.integer("max_chains"));
    config_.warmup = static_cast<int>(p.integer("warmup"));
    config_.interval = static_cast<int>(p.integer("interval"));
    config_.p_remove = p.real("p_remove");
    config_.p_add = p.real("p_add");
    const std::string& policy = p.string("policy");
    config_.policy = policy == "set"    ? Policy::set
                     : policy == "rigl" ? Policy::rigl
                                        : Policy::random;
    config_.decay_epochs = static_cast<int>(p.integer("decay_epochs"));
    config_.graphml_dir = p.string("graphml_dir");
    if (config_.max_span > 0 && config_.max_span < config_.min_span)
      throw Error("random_chains: max_span = " + std::to_string(config_.max_span) +
                  " is below min_span = " + std::to_string(config_.min_span) +
                  "; use 0 (no limit) or a value >= min_span");
  }

  std::unique_ptr<Model> build(const BuildContext& ctx, Rng& rng) const override {
    if (ctx.data.features < 1 || ctx.data.classes < 2)
      throw Error(
          "the random_chains topology needs data with features and at least 2 classes, "
          "got " +
          std::to_string(ctx.data.features) + " features and " + std::to_string(ctx.data.classes) +
          " classes");
    return std::make_unique<RandomChains>(config_, ctx.data, rng);
  }
  bool uses_capacity() const override { return true; }

 private:
  ChainsConfig config_;
};

PluginInfo info() {
  return PluginInfo{
      kAbiVersion,
      Kind::topology,
      "random_chains",
      "1.0",
      "an MLP with layer-skipping connections (chains) removed and added while it trains",
      {integers("hidden", std::vector<std::int64_t>{128, 128}, 1, 1 << 16,
                "widths of the hidden layers, input side first"),
       choice("activation", "relu", {"relu", "tanh"}, "the hidden layers' activation"),
       integer("min_span", 2, 1, 64,
               "the fewest layers a chain spans (1: adjacent connections are rewired too)"),
       integer("max_span", 0, 0, 64, "the most layers a chain spans (0: up to the output)"),
       real("density", 1.0, std::nextafter(0.0, 1.0), 1.0,
            "share of the adjacent layers' connections present at the start"),
       integer("chains", 256, 0, kInf, "chains added at the end of the warmup (at build if 0)"),
       integer("max_chains", 0, 0, kInf, "the most chains at any time (0: no cap)"),
       integer("warmup", 5, 0, kInf, "epochs of training before the chains appear"),
       integer("interval", 5, 1, kInf, "epochs between two changes after the warmup"),
       real("p_remove", 0.2, 0.0, 1.0, "share of the chains removed at each change"),
       real("p_add", 0.3, 0.0, 100.0, "chains added at each change, as a share of their count"),
       choice("policy", "random", {"random", "set", "rigl"},
              "random: remove and add at random (the seed); set: remove the smallest, add at "
              "random; rigl: remove the smallest, add by gradient, cosine-decayed"),
       integer("decay_epochs", 100, 1, kInf,
               "rigl: epochs after the warmup over which the change fraction decays to 0"),
       text("graphml_dir", std::string(),
            "folder receiving the chain graph as GraphML at each change (empty: none)")}};
}

std::unique_ptr<Plugin> create(const Params& params) {
  return std::make_unique<RandomChainsTopology>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
